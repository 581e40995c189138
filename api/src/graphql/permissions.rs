//! `myPermissions`: what the caller may do, computed from the casbin policy,
//! so front ends hide buttons without copying the policy.

use async_graphql::{Context, SimpleObject};

use crate::caller::Caller;
use crate::rubric::query::VersionTree;

/// The scoring actions the caller may take on one indicator (指标权限).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct IndicatorPermission {
    /// Indicator code, e.g. `6.2`.
    pub code: String,
    /// May record observations (录入扣分/加分记录).
    pub record: bool,
    /// May correct or withdraw observations (更正/撤回).
    pub correct: bool,
    /// May submit the section (提交).
    pub submit: bool,
    /// May approve or reject claims on it (审核申报).
    pub approve_claim: bool,
}

/// What the caller may do with a rubric version (我的权限).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct MyPermissions {
    /// May open score runs on this version (开启考核批次).
    pub can_open_runs: bool,
    /// May publish runs and amend published ones (发布).
    pub can_publish: bool,
    /// May create, edit and publish rubric version drafts (编辑考核细则).
    pub can_edit_rubrics: bool,
    /// May create, rename, move and deactivate assessed units (管理被考核单位).
    pub can_administer_units: bool,
    /// May upload evidence files (上传佐证材料); a unit user for its own unit only.
    pub can_upload_evidence: bool,
    /// Every indicator with the scoring actions the policy grants (on it or an ancestor).
    pub indicators: Vec<IndicatorPermission>,
}

pub async fn compute(
    ctx: &Context<'_>,
    tree: &VersionTree,
    organisation_code: &str,
    rubric_code: &str,
) -> async_graphql::Result<MyPermissions> {
    let caller = ctx.data::<Caller>()?;
    let none = MyPermissions {
        can_open_runs: false,
        can_publish: false,
        can_edit_rubrics: false,
        can_administer_units: false,
        can_upload_evidence: false,
        indicators: tree
            .indicators
            .iter()
            .map(|i| IndicatorPermission {
                code: i.code.clone(),
                record: false,
                correct: false,
                submit: false,
                approve_claim: false,
            })
            .collect(),
    };
    // The domain is the rubric's organisation; the caller's grants count only there.
    let Some(g) = caller.grants.as_ref().filter(|g| g.organisation_code == organisation_code) else {
        return Ok(none);
    };
    let (policy, sub) = (&g.policy, &g.subject);
    let dom = organisation_code;
    let indicators = tree
        .indicators
        .iter()
        .map(|ind| {
            // The indicator and its ancestors, nearest first.
            let mut path = vec![ind.code.as_str()];
            let mut parent = ind.parent_id;
            while let Some(pid) = parent {
                let Some(p) = tree.indicators.iter().find(|x| x.id == pid) else { break };
                path.push(p.code.as_str());
                parent = p.parent_id;
            }
            let may = |act| policy.allows_on_indicator(sub, dom, rubric_code, &path, act);
            IndicatorPermission {
                code: ind.code.clone(),
                record: may("record"),
                correct: may("correct"),
                submit: may("submit"),
                approve_claim: may("approve_claim"),
            }
        })
        .collect();
    Ok(MyPermissions {
        can_open_runs: policy.allows(sub, dom, "runs", "open"),
        can_publish: policy.allows(sub, dom, "runs", "publish"),
        can_edit_rubrics: policy.allows(sub, dom, "rubrics", "edit"),
        can_administer_units: policy.allows(sub, dom, "units", "admin"),
        can_upload_evidence: policy.allows(sub, dom, "evidence", "upload"),
        indicators,
    })
}
