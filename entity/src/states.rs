//! The states and kinds the tables store, as types: one list each, stored as
//! the lower-case text shown, and held to that list by the database itself
//! (CHECK constraints, triggers on SQLite: migration 000090). A value the
//! code does not know is an error when read, never silently another state.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declares a string-stored enum with its text values.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* #[sea_orm(string_value = $text)] $variant),+
        }

        impl $name {
            /// Every value, as stored.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The stored text.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_enum! {
    /// Where a score run (考核批次) stands.
    RunStatus {
        /// Takes observations (录入中).
        Open = "open",
        /// Results fixed (已发布).
        Published = "published",
        /// Published, then replaced by a newer published revision (已被修订).
        Superseded = "superseded",
    }
}

impl RunStatus {
    /// Published, or published then replaced by an amendment: official history.
    pub fn is_published(self) -> bool {
        matches!(self, RunStatus::Published | RunStatus::Superseded)
    }
}

stored_enum! {
    /// Whether an observation (扣分/加分记录) counts.
    ObservationStatus {
        /// Counts.
        Active = "active",
        /// Corrected: a newer row replaces it (更正).
        Superseded = "superseded",
        /// Withdrawn: counts no more, kept (撤回).
        Withdrawn = "withdrawn",
    }
}

stored_enum! {
    /// Where a bonus claim (申报) stands.
    ClaimStatus {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

stored_enum! {
    /// Where a department's section (科室提交) of a run stands.
    SubmissionStatus {
        /// Taking writes again after the office reopened it (退回).
        Open = "open",
        /// Submitted: writes to it are FROZEN (已提交).
        Submitted = "submitted",
    }
}

stored_enum! {
    /// Where a rubric version (考核细则版本) stands.
    VersionStatus {
        /// Being edited (草稿).
        Draft = "draft",
        /// In force and frozen (现行).
        Published = "published",
        /// Replaced by a newer published version (已废止); results keep pointing at it.
        Retired = "retired",
    }
}

stored_enum! {
    /// The kind of a run's period.
    PeriodKind {
        Year = "year",
        Month = "month",
    }
}

stored_enum! {
    /// What a top-level indicator (板块) does: adds to the base or adjusts the total.
    IndicatorRole {
        /// Part of the base score (基础分).
        Base = "base",
        /// Bonus and penalty (加减分).
        Adjust = "adjust",
    }
}
