//! The eighteen `States.*` intrinsic functions: their names and how many arguments each takes.

/// One intrinsic function, as named after `States.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Function {
    Array,
    ArrayContains,
    ArrayGetItem,
    ArrayLength,
    ArrayPartition,
    ArrayRange,
    ArrayUnique,
    Base64Decode,
    Base64Encode,
    Format,
    Hash,
    JsonMerge,
    JsonToString,
    MathAdd,
    MathRandom,
    StringSplit,
    StringToJson,
    Uuid,
}

/// How many arguments a function takes: at least `min`, at most `max` (`None`: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Arity {
    pub(super) min: usize,
    pub(super) max: Option<usize>,
}

impl Arity {
    const fn exactly(count: usize) -> Arity {
        Arity {
            min: count,
            max: Some(count),
        }
    }

    /// Whether `count` arguments are accepted.
    pub(super) fn accepts(self, count: usize) -> bool {
        count >= self.min && self.max.is_none_or(|max| count <= max)
    }

    /// "2 arguments", "2 or 3 arguments", "at least 1 argument", "any number of arguments".
    pub(super) fn describe(self) -> String {
        let plural = |count: usize| if count == 1 { "argument" } else { "arguments" };
        match self.max {
            Some(max) if max == self.min => format!("exactly {max} {}", plural(max)),
            Some(max) => format!("{} to {max} {}", self.min, plural(max)),
            None if self.min == 0 => "any number of arguments".to_owned(),
            None => format!("at least {} {}", self.min, plural(self.min)),
        }
    }
}

const ALL: [(Function, &str); 18] = [
    (Function::Array, "Array"),
    (Function::ArrayContains, "ArrayContains"),
    (Function::ArrayGetItem, "ArrayGetItem"),
    (Function::ArrayLength, "ArrayLength"),
    (Function::ArrayPartition, "ArrayPartition"),
    (Function::ArrayRange, "ArrayRange"),
    (Function::ArrayUnique, "ArrayUnique"),
    (Function::Base64Decode, "Base64Decode"),
    (Function::Base64Encode, "Base64Encode"),
    (Function::Format, "Format"),
    (Function::Hash, "Hash"),
    (Function::JsonMerge, "JsonMerge"),
    (Function::JsonToString, "JsonToString"),
    (Function::MathAdd, "MathAdd"),
    (Function::MathRandom, "MathRandom"),
    (Function::StringSplit, "StringSplit"),
    (Function::StringToJson, "StringToJson"),
    (Function::Uuid, "UUID"),
];

impl Function {
    /// The function called `States.{name}`; names are case-sensitive, as in AWS.
    pub(super) fn from_name(name: &str) -> Option<Function> {
        ALL.iter()
            .find(|(_, known)| *known == name)
            .map(|(function, _)| *function)
    }

    /// The full name, `States.Format`.
    pub(super) fn name(self) -> &'static str {
        match self {
            Function::Array => "States.Array",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Decode => "States.Base64Decode",
            Function::Base64Encode => "States.Base64Encode",
            Function::Format => "States.Format",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::JsonToString => "States.JsonToString",
            Function::MathAdd => "States.MathAdd",
            Function::MathRandom => "States.MathRandom",
            Function::StringSplit => "States.StringSplit",
            Function::StringToJson => "States.StringToJson",
            Function::Uuid => "States.UUID",
        }
    }

    /// How many arguments the AWS documentation says the function takes.
    pub(super) fn arity(self) -> Arity {
        match self {
            Function::Array => Arity { min: 0, max: None },
            Function::Format => Arity { min: 1, max: None },
            Function::MathRandom => Arity { min: 2, max: Some(3) },
            Function::Uuid => Arity::exactly(0),
            Function::ArrayLength
            | Function::ArrayUnique
            | Function::Base64Decode
            | Function::Base64Encode
            | Function::JsonToString
            | Function::StringToJson => Arity::exactly(1),
            Function::ArrayContains
            | Function::ArrayGetItem
            | Function::ArrayPartition
            | Function::Hash
            | Function::MathAdd
            | Function::StringSplit => Arity::exactly(2),
            Function::ArrayRange | Function::JsonMerge => Arity::exactly(3),
        }
    }

    /// The names of the arguments, for error causes; the last repeats for variadic functions.
    pub(super) fn parameters(self) -> &'static [&'static str] {
        match self {
            Function::Array => &["value"],
            Function::ArrayContains => &["array", "value"],
            Function::ArrayGetItem => &["array", "index"],
            Function::ArrayLength | Function::ArrayUnique => &["array"],
            Function::ArrayPartition => &["array", "chunkSize"],
            Function::ArrayRange => &["start", "end", "step"],
            Function::Base64Decode | Function::Base64Encode => &["data"],
            Function::Format => &["template", "value"],
            Function::Hash => &["data", "algorithm"],
            Function::JsonMerge => &["json1", "json2", "deepMerge"],
            Function::JsonToString => &["value"],
            Function::MathAdd => &["value1", "value2"],
            Function::MathRandom => &["start", "end", "seed"],
            Function::StringSplit => &["string", "delimiters"],
            Function::StringToJson => &["string"],
            Function::Uuid => &[],
        }
    }
}
