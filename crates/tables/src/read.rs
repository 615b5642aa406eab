//! Query and Scan: pages of at most `Limit` items read (before the filter) and at most 1 MB,
//! with `LastEvaluatedKey` when items are left.
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html>,
//! <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html>.

use std::ops::Bound;

use serde_json::{Value as Json, json};
use sluice_expressions::{
    Condition, ExpressionKind, Item, KeySchema, Projection, encode_sort_key, item_to_json, parse_key_condition,
};
use sluice_store::tables::{ItemKey, ItemPage, ItemRange, PageLimit, ScanRange};

use crate::Tables;
use crate::error::Error;
use crate::items::check_key;
use crate::request::Request;

/// The most data one page reads: 1 MB.
pub const PAGE_BYTES: usize = 1024 * 1024;

/// What a Query or Scan sends back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    /// The items (projected when a projection is given).
    Items,
    /// Only `Count` and `ScannedCount`.
    Count,
}

/// The parts of Query and Scan that are the same.
struct Reading {
    name: String,
    limit: usize,
    select: Select,
    filter: Option<Condition>,
    projection: Option<Projection>,
    start: Option<Item>,
}

impl Tables {
    pub(crate) async fn query(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let forward = request.boolean("ScanIndexForward").unwrap_or(true);
        let key_condition = request.string("KeyConditionExpression");
        let mut placeholders = request.placeholders()?;
        let reading = read_common(request, name, &mut placeholders)?;
        if key_condition.is_none() {
            return Err(Error::validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
        let table = self.table(&reading.name).await?;
        let key_condition = parse_key_condition(
            key_condition.as_deref().unwrap_or_default(),
            &table.key_schema,
            &mut placeholders,
        )?;
        placeholders.finish()?;
        if let Some(filter) = &reading.filter
            && let Some(path) = filter
                .paths()
                .into_iter()
                .find(|path| table.key_schema.is_key(path.attribute_name()))
        {
            return Err(Error::validation(format!(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: {}",
                path.attribute_name()
            )));
        }
        let partition = encode_sort_key(&key_condition.partition_value)
            .ok_or_else(|| Error::validation("Query key condition not supported"))?;
        let (mut lower, mut upper) = match &key_condition.sort {
            Some(sort) => sort.operator.encoded_range(),
            None => (Bound::Unbounded, Bound::Unbounded),
        };
        if let Some(start) = &reading.start {
            let start_key = start_key(&table.key_schema, start)?;
            if !key_condition.matches(start) || start_key.partition != partition {
                return Err(Error::validation(
                    "The provided starting key is invalid: The provided key element does not match the query's key condition",
                ));
            }
            if forward {
                lower = Bound::Excluded(start_key.sort);
            } else {
                upper = Bound::Excluded(start_key.sort);
            }
        }
        let page = self
            .store
            .query(ItemRange {
                table: reading.name.clone(),
                partition,
                lower,
                upper,
                forward,
                page: self.page_limit(reading.limit),
            })
            .await?;
        Ok(answer(&reading, &table.key_schema, page))
    }

    pub(crate) async fn scan(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        request.refuse_legacy()?;
        let name = request.table_name("TableName");
        let segment = request.integer("Segment", 0, 999_999);
        let total = request.integer("TotalSegments", 1, 1_000_000);
        let mut placeholders = request.placeholders()?;
        let reading = read_common(request, name, &mut placeholders)?;
        placeholders.finish()?;
        let segment = match (segment, total) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(Error::validation(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::validation(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
            (Some(segment), Some(total)) if segment >= total => {
                return Err(Error::validation(format!(
                    "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {segment} is not less than TotalSegments: {total}"
                )));
            }
            (Some(segment), Some(total)) => Some((segment as u32, total as u32)),
        };
        let table = self.table(&reading.name).await?;
        let after = match &reading.start {
            Some(start) => {
                let key = start_key(&table.key_schema, start)?;
                if let Some((segment, total)) = segment
                    && key.segment_hash() % total != segment
                {
                    return Err(Error::validation(
                        "The provided Exclusive start key does not map to the provided Segment and TotalSegments values.",
                    ));
                }
                Some(key)
            }
            None => None,
        };
        let page = self
            .store
            .scan(ScanRange {
                table: reading.name.clone(),
                after,
                segment,
                page: self.page_limit(reading.limit),
            })
            .await?;
        Ok(answer(&reading, &table.key_schema, page))
    }

    fn page_limit(&self, items: usize) -> PageLimit {
        PageLimit {
            items,
            bytes: PAGE_BYTES,
            now_seconds: self.now_seconds(),
        }
    }
}

/// Reads the members Query and Scan share and checks how they combine.
fn read_common(
    mut request: Request,
    name: String,
    placeholders: &mut sluice_expressions::Placeholders,
) -> Result<Reading, Error> {
    let index = request.string("IndexName");
    let limit = request.integer("Limit", 1, i64::MAX);
    let select = request.enumeration(
        "Select",
        &[
            "ALL_ATTRIBUTES",
            "ALL_PROJECTED_ATTRIBUTES",
            "SPECIFIC_ATTRIBUTES",
            "COUNT",
        ],
    );
    request.boolean("ConsistentRead");
    request.ignored_reports();
    let start = request.item("ExclusiveStartKey")?;
    let filter = request.condition("FilterExpression", ExpressionKind::Filter, placeholders)?;
    let projection = request.projection(placeholders)?;
    request.finish()?;
    if let Some(index) = index {
        return Err(Error::validation(format!(
            "The table does not have the specified index: {index}"
        )));
    }
    let select = match (select.as_deref(), &projection) {
        (Some("COUNT"), Some(_)) => {
            return Err(Error::validation(
                "Cannot specify the ProjectionExpression when choosing to get only the Count",
            ));
        }
        (Some("COUNT"), None) => Select::Count,
        (Some("ALL_PROJECTED_ATTRIBUTES"), _) => {
            return Err(Error::validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            ));
        }
        (Some("SPECIFIC_ATTRIBUTES"), None) => {
            return Err(Error::validation(
                "SPECIFIC_ATTRIBUTES requires a ProjectionExpression (Sluice takes no AttributesToGet)",
            ));
        }
        (Some("ALL_ATTRIBUTES"), Some(_)) => {
            return Err(Error::validation(
                "Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES",
            ));
        }
        _ => Select::Items,
    };
    Ok(Reading {
        name,
        limit: limit.map_or(usize::MAX, |limit| limit as usize),
        select,
        filter,
        projection,
        start,
    })
}

/// An `ExclusiveStartKey`, checked against the schema and encoded.
fn start_key(schema: &KeySchema, start: &Item) -> Result<ItemKey, Error> {
    check_key(schema, start).map_err(|_| {
        Error::validation("The provided starting key is invalid: The provided key element does not match the schema")
    })?;
    ItemKey::of(schema, start).ok_or_else(|| {
        Error::validation("The provided starting key is invalid: The provided key element does not match the schema")
    })
}

/// The response: the items that pass the filter (projected), `Count`, `ScannedCount`, and
/// `LastEvaluatedKey` (the last item read) when the page stopped with items left.
fn answer(reading: &Reading, schema: &KeySchema, page: ItemPage) -> Json {
    let scanned = page.items.len();
    let last_key = page
        .more
        .then(|| page.items.last().map(|item| schema.key_of(item)))
        .flatten();
    let matched: Vec<Item> = page
        .items
        .into_iter()
        .filter(|item| reading.filter.as_ref().is_none_or(|filter| filter.evaluate(Some(item))))
        .collect();
    let mut response = json!({"Count": matched.len(), "ScannedCount": scanned});
    if reading.select == Select::Items {
        let items: Vec<Json> = matched
            .iter()
            .map(|item| match &reading.projection {
                Some(projection) => item_to_json(&projection.apply(item)),
                None => item_to_json(item),
            })
            .collect();
        response["Items"] = Json::Array(items);
    }
    if let Some(key) = last_key {
        response["LastEvaluatedKey"] = item_to_json(&key);
    }
    response
}
