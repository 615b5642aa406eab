//! The XML of S3's REST protocol: escaping for the answers Sluice writes, and a small element
//! tree for the request bodies it reads (parsed with quick-xml; namespaces ignored).

use quick_xml::Reader;
use quick_xml::events::Event;

use super::error::{Code, S3Error};

/// The XML declaration every answer starts with.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The namespace of S3's answers.
pub const NAMESPACE: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for an element's content.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\r' => escaped.push_str("&#13;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `<name>text</name>`, escaped.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// An element of a request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Its local name (without a namespace prefix).
    pub name: String,
    /// Its text, unescaped.
    pub text: String,
    /// Its child elements, in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |child| child.name == name)
    }

    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The text of the first child named `name`.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).map(|child| child.text.as_str())
    }
}

/// Parses a request body into its root element.
pub fn parse(body: &[u8]) -> Result<Element, S3Error> {
    let malformed = |detail: String| {
        S3Error::new(
            Code::MalformedXML,
            format!(
                "The XML you provided was not well-formed or did not validate against our published schema: {detail}"
            ),
        )
    };
    let mut reader = Reader::from_reader(body);
    let mut stack: Vec<Element> = Vec::new();
    let mut buffer = Vec::new();
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(start)) => stack.push(Element {
                name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
                ..Element::default()
            }),
            Ok(Event::Empty(empty)) => {
                let element = Element {
                    name: String::from_utf8_lossy(empty.local_name().as_ref()).into_owned(),
                    ..Element::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => return Ok(element),
                }
            }
            Ok(Event::Text(text)) => {
                let text = text.xml10_content().map_err(|error| malformed(error.to_string()))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(reference)) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                let resolved = match name.as_str() {
                    "amp" => "&".to_owned(),
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    other => reference
                        .resolve_char_ref()
                        .map_err(|error| malformed(error.to_string()))?
                        .map(String::from)
                        .ok_or_else(|| malformed(format!("unknown entity &{other};")))?,
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&resolved);
                }
            }
            Ok(Event::CData(data)) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Ok(Event::End(_)) => {
                let Some(done) = stack.pop() else {
                    return Err(malformed("an end tag without a start".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Ok(Event::Eof) => return Err(malformed("the document ended early".into())),
            Ok(_) => {}
            Err(error) => return Err(malformed(error.to_string())),
        }
        buffer.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_into_trees_with_entities_resolved() {
        let body = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <Object><Key>a&amp;b&#x20;c</Key></Object><Object><Key>d</Key></Object><Quiet>true</Quiet><Empty/></Delete>"#;
        let root = parse(body).expect("parsed");
        assert_eq!(root.name, "Delete");
        let keys: Vec<&str> = root.all("Object").filter_map(|object| object.text_of("Key")).collect();
        assert_eq!(keys, ["a&b c", "d"]);
        assert_eq!(root.text_of("Quiet"), Some("true"));
        assert!(root.child("Empty").is_some());
        assert_eq!(parse(b"<a><b></a>").expect_err("malformed").code, Code::MalformedXML);
        assert_eq!(parse(b"").expect_err("empty").code, Code::MalformedXML);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(element("Key", "a<b>&\"c'"), "<Key>a&lt;b&gt;&amp;&quot;c&apos;</Key>");
    }
}
