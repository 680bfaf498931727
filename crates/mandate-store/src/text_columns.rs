//! Typed values in text columns. Closed sets (démarche, token kind, journal action …) are Rust
//! enums stored as their readable key, and JSON columns are typed values stored as JSON text,
//! so the stored text is what it always was while the code only sees checked values.
//!
//! Both go through the `MultiBackend` that `#[derive(diesel::MultiConnection)]` generates: a
//! value reads as a `String` on either backend and is parsed here. A row that does not parse
//! fails the query with [`CorruptValue`](crate::error::CorruptValue), which the store reports as
//! [`StoreError::CorruptRow`](crate::StoreError::CorruptRow): never a silent default.

/// Stores an enum with `key(self) -> &'static str` and `FromStr` as its key, in column(s)
/// `$column`. The enum itself derives `AsExpression` and `FromSqlRow` with `sql_type = Text`.
#[macro_export]
#[doc(hidden)]
macro_rules! text_enum_column {
    ($ty:ty, $column:literal) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                out.set_value((diesel::sql_types::Text, self.key()));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        // Inserts go through each backend's own impl.
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(self.key());
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                std::io::Write::write_all(out, self.key().as_bytes())?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let raw: String = bytes.from_sql::<String, diesel::sql_types::Text>()?;
                raw.parse::<$ty>().map_err(|e| {
                    Box::new($crate::error::CorruptValue { column: $column, reason: e.to_string(), value: raw })
                        as Box<dyn std::error::Error + Send + Sync>
                })
            }
        }
    };
}

/// Stores a serde value as JSON text in column(s) `$column`. The type derives `AsExpression`
/// and `FromSqlRow` with `sql_type = Text`.
#[macro_export]
#[doc(hidden)]
macro_rules! json_text_column {
    ($ty:ty, $column:literal) => {
        impl diesel::serialize::ToSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, $crate::db::MultiBackend>,
            ) -> diesel::serialize::Result {
                // Each backend writes the serialised text itself (the text is built here, so
                // it cannot be lent to the multi-backend bind collector).
                out.set_value((diesel::sql_types::Text, self));
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::sqlite::Sqlite> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::sqlite::Sqlite>,
            ) -> diesel::serialize::Result {
                out.set_value(serde_json::to_string(self)?);
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $ty {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                serde_json::to_writer(out, self)?;
                Ok(diesel::serialize::IsNull::No)
            }
        }

        impl diesel::deserialize::FromSql<diesel::sql_types::Text, $crate::db::MultiBackend> for $ty {
            fn from_sql(
                bytes: <$crate::db::MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> diesel::deserialize::Result<Self> {
                let raw: String = bytes.from_sql::<String, diesel::sql_types::Text>()?;
                serde_json::from_str::<$ty>(&raw).map_err(|e| {
                    Box::new($crate::error::CorruptValue { column: $column, reason: e.to_string(), value: raw })
                        as Box<dyn std::error::Error + Send + Sync>
                })
            }
        }
    };
}

/// Declares a list stored as a JSON array in text column(s) `$column`: the newtype (`Default`,
/// serde as the bare array) and its column impls.
#[macro_export]
#[doc(hidden)]
macro_rules! json_list_column {
    ($(#[$doc:meta])* pub struct $name:ident(pub Vec<$item:ty>) in $column:literal;) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(pub Vec<$item>);

        $crate::json_text_column!($name, $column);
    };
}

/// Declares a closed set stored as text: the enum with its keys, `ALL`, `key`, `FromStr`
/// (refusing an unknown key with `StoreError::InvalidField { field: $field }`), `Display`,
/// serde as the key, and the column impls.
#[macro_export]
#[doc(hidden)]
macro_rules! keyed_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $column:literal {
            $($(#[$vmeta:meta])* $variant:ident = $key:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn key(self) -> &'static str {
                match self {
                    $($name::$variant => $key,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::StoreError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($key => Ok($name::$variant),)+
                    other => Err($crate::StoreError::InvalidField {
                        field: $column,
                        reason: format!(
                            "unknown value {other:?}; known: {}",
                            [$($key),+].join(", ")
                        ),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.key())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }

        $crate::text_enum_column!($name, $column);
    };
}
