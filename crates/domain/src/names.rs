//! [`named_enum!`](crate::named_enum): an enum whose every value has one name, written once, that the
//! database stores, the API sends and serde reads and writes, so the three cannot drift apart.

#[doc(hidden)]
pub use serde as __serde;
#[cfg(feature = "openapi")]
#[doc(hidden)]
pub use utoipa as __utoipa;

/// Declares a fieldless enum with one name per variant:
///
/// ```
/// bonafide_domain::named_enum! {
///     /// How bright.
///     pub enum Light {
///         /// Off.
///         Dark = "dark",
///         /// On.
///         Bright = "bright",
///     }
/// }
/// assert_eq!(Light::Bright.as_str(), "bright");
/// assert_eq!(Light::from_name("dark"), Some(Light::Dark));
/// assert_eq!(Light::NAMES, ["dark", "bright"]);
/// ```
///
/// It derives `Debug`, `Clone`, `Copy`, equality, order and `Hash`, and implements `Display`, `Serialize`
/// and `Deserialize` with those names (an unknown name is serde's "unknown variant" error listing the
/// known ones). `FromStr`, where an enum needs one, is written beside it on top of
/// [`from_name`](#method.from_name), with its own field name and leniency. With the `openapi` feature it
/// also describes itself to the API's OpenAPI document as a string with exactly those names.
#[macro_export]
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];
            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name: as stored, as sent, as serde writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value named `name`, exactly.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::names::__serde::Serialize for $name {
            fn serialize<S: $crate::names::__serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> $crate::names::__serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::names::__serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Named;
                impl $crate::names::__serde::de::Visitor<'_> for Named {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        write!(f, "one of {}", $name::NAMES.join(", "))
                    }
                    fn visit_str<E: $crate::names::__serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::from_name(v).ok_or_else(|| E::unknown_variant(v, $name::NAMES))
                    }
                }
                d.deserialize_str(Named)
            }
        }

        $crate::__named_enum_schema!($name);
    };
}

/// The OpenAPI schema of a [`named_enum!`](crate::named_enum): a string, one of its names.
#[cfg(feature = "openapi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __named_enum_schema {
    ($name:ident) => {
        impl $crate::names::__utoipa::PartialSchema for $name {
            fn schema() -> $crate::names::__utoipa::openapi::RefOr<$crate::names::__utoipa::openapi::schema::Schema> {
                $crate::names::enum_schema($name::NAMES)
            }
        }

        impl $crate::names::__utoipa::ToSchema for $name {}
    };
}

/// Without the `openapi` feature a [`named_enum!`](crate::named_enum) has no schema.
#[cfg(not(feature = "openapi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __named_enum_schema {
    ($name:ident) => {};
}

/// A string schema that admits exactly `names`.
#[cfg(feature = "openapi")]
#[doc(hidden)]
pub fn enum_schema(names: &[&str]) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names.iter().copied())).into()
}

#[cfg(test)]
mod tests {
    named_enum! {
        /// A test enum.
        pub enum Shade {
            /// Light.
            Light = "light",
            /// Very dark.
            PitchBlack = "pitch_black",
        }
    }

    #[test]
    fn every_name_reads_back_as_its_value_in_serde_and_by_name() {
        for shade in Shade::ALL {
            let json = serde_json::to_string(&shade).unwrap();
            assert_eq!(json, format!("\"{}\"", shade.as_str()));
            assert_eq!(serde_json::from_str::<Shade>(&json).unwrap(), shade);
            assert_eq!(Shade::from_name(shade.as_str()), Some(shade));
            assert_eq!(shade.to_string(), shade.as_str());
        }
    }

    #[test]
    fn an_unknown_name_is_refused_naming_the_known_ones() {
        let err = serde_json::from_str::<Shade>("\"grey\"").unwrap_err().to_string();
        assert!(err.contains("unknown variant `grey`") && err.contains("pitch_black"), "{err}");
        assert_eq!(Shade::from_name("Light"), None, "names are exact");
    }
}
