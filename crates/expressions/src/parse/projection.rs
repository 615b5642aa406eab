//! Parses projection expressions: `path (',' path)*`.

use crate::error::{Error, ExpressionKind};
use crate::parse::{Parser, Placeholders};
use crate::path::{DocumentPath, check_disjoint};
use crate::projection::Projection;

/// Parses a `ProjectionExpression`, resolving placeholders, and rejects overlapping paths
/// (`a, a.b`) and conflicting ones (`a.b, a[0]`).
pub fn parse_projection(text: &str, placeholders: &mut Placeholders) -> Result<Projection, Error> {
    let mut parser = Parser::new(ExpressionKind::Projection, text, placeholders)?;
    let mut paths = vec![parser.path()?];
    while parser.at_punct(",") {
        parser.advance();
        paths.push(parser.path()?);
    }
    let projection = parser.finish(Projection { paths })?;
    let references: Vec<&DocumentPath> = projection.paths.iter().collect();
    check_disjoint(ExpressionKind::Projection, &references)?;
    Ok(projection)
}
