//! Small column helpers shared by the migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// `id`: 64-bit auto-increment primary key (`integer` on SQLite).
pub fn id() -> ColumnDef {
    ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key().to_owned()
}

pub fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().to_owned()
}

pub fn text_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().null().to_owned()
}

pub fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().to_owned()
}

pub fn int_default(name: &'static str, value: i32) -> ColumnDef {
    ColumnDef::new(name).integer().not_null().default(value).to_owned()
}

pub fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().to_owned()
}

pub fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

pub fn boolean(name: &'static str, default: bool) -> ColumnDef {
    ColumnDef::new(name).boolean().not_null().default(default).to_owned()
}

pub fn boolean_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).boolean().null().to_owned()
}

pub fn ts(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().not_null().to_owned()
}

pub fn ts_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).timestamp_with_time_zone().null().to_owned()
}

pub fn date_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).date().null().to_owned()
}

fn exact_def(backend: DbBackend, name: &'static str) -> ColumnDef {
    let mut c = ColumnDef::new(name);
    match backend {
        // TEXT affinity keeps "0.1" as written; NUMERIC affinity would store a REAL.
        DbBackend::Sqlite => c.text(),
        // Unconstrained NUMERIC: exact at any scale rust_decimal produces (28).
        _ => c.decimal(),
    };
    c
}

/// An exact decimal, not null.
pub fn exact(backend: DbBackend, name: &'static str) -> ColumnDef {
    exact_def(backend, name).not_null().to_owned()
}

/// An exact decimal, nullable.
pub fn exact_null(backend: DbBackend, name: &'static str) -> ColumnDef {
    exact_def(backend, name).null().to_owned()
}

/// A foreign key from `table.col` to `to.id`.
pub fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A (possibly unique) index over `cols`.
pub fn index(table: &'static str, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("{}_{table}_{}", if unique { "ux" } else { "ix" }, cols.join("_"))).table(table).if_not_exists();
    if unique {
        i.unique();
    }
    for c in cols {
        i.col(*c);
    }
    i
}

/// Drops tables in the given order.
pub async fn drop_all(manager: &SchemaManager<'_>, tables: &[&'static str]) -> Result<(), DbErr> {
    for t in tables {
        manager.drop_table(Table::drop().table(*t).if_exists().to_owned()).await?;
    }
    Ok(())
}
