//! The table operations: CreateTable, DescribeTable, ListTables, DeleteTable,
//! UpdateTimeToLive, DescribeTimeToLive, and tables declared by an app's manifest.
//!
//! Spec: <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html>.
//! Tables are `ACTIVE` as soon as they are created (there is nothing to provision).

use serde_json::{Map, Value as Json, json};
use sluice_expressions::{KeyAttribute, KeySchema, ScalarType};
use sluice_store::tables::TableRecord;

use crate::Tables;
use crate::error::{Error, ErrorCode};
use crate::request::Request;

/// A table as an app's manifest declares it: a name, a partition key and an optional sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDefinition {
    /// The table name.
    pub name: String,
    /// The key schema.
    pub key_schema: KeySchema,
    /// The time-to-live attribute, if any.
    pub ttl_attribute: Option<String>,
}

impl TableDefinition {
    /// The CreateTable request for this definition (on-demand billing), so a manifest's table
    /// is checked exactly as a created one is.
    pub fn create_request(&self) -> Json {
        let attribute = |attribute: &KeyAttribute, key_type: &str| {
            (
                json!({"AttributeName": attribute.name, "KeyType": key_type}),
                json!({"AttributeName": attribute.name, "AttributeType": scalar_name(attribute.scalar_type)}),
            )
        };
        let mut keys = vec![attribute(&self.key_schema.partition, "HASH")];
        if let Some(sort) = &self.key_schema.sort {
            keys.push(attribute(sort, "RANGE"));
        }
        let (schema, definitions): (Vec<Json>, Vec<Json>) = keys.into_iter().unzip();
        json!({
            "TableName": self.name,
            "KeySchema": schema,
            "AttributeDefinitions": definitions,
            "BillingMode": "PAY_PER_REQUEST",
        })
    }
}

fn scalar_name(scalar_type: ScalarType) -> &'static str {
    match scalar_type {
        ScalarType::S => "S",
        ScalarType::N => "N",
        ScalarType::B => "B",
    }
}

/// The parsed parts of a CreateTable request.
struct NewTable {
    name: String,
    key_schema: KeySchema,
    description: Map<String, Json>,
}

impl Tables {
    /// Checks a manifest's table without writing anything: its keys as CreateTable checks
    /// them, and that an existing table of that name has the same keys.
    pub async fn check_table(&self, definition: &TableDefinition) -> Result<(), Error> {
        parse_create_table(definition.create_request())?;
        match self.store.table(&definition.name).await? {
            Some(existing) if existing.key_schema != definition.key_schema => Err(Error::validation(format!(
                "The table {} exists with another key schema; delete it or rename the manifest's table",
                definition.name
            ))),
            _ => Ok(()),
        }
    }

    /// Makes sure a manifest's table exists with its key schema: creates it when absent, does
    /// nothing when it exists with the same keys, and fails when it exists with other keys.
    /// Also sets its time to live as declared. Returns whether it was created.
    pub async fn ensure_table(&self, definition: &TableDefinition) -> Result<bool, Error> {
        let new_table = parse_create_table(definition.create_request())?;
        let created = match self.store.table(&definition.name).await? {
            Some(existing) if existing.key_schema == definition.key_schema => false,
            Some(_) => {
                return Err(Error::validation(format!(
                    "The table {} exists with another key schema; delete it or rename the manifest's table",
                    definition.name
                )));
            }
            None => {
                self.insert_table(new_table).await?;
                true
            }
        };
        let table = self.table(&definition.name).await?;
        if table.ttl_attribute != definition.ttl_attribute {
            self.store
                .set_time_to_live(&definition.name, definition.ttl_attribute.clone())
                .await?;
        }
        Ok(created)
    }

    pub(crate) async fn create_table(&self, request: Json) -> Result<Json, Error> {
        let new_table = parse_create_table(request)?;
        let record = self.insert_table(new_table).await?;
        Ok(json!({"TableDescription": self.describe(&record, None).await?}))
    }

    async fn insert_table(&self, new_table: NewTable) -> Result<TableRecord, Error> {
        let record = TableRecord {
            name: new_table.name.clone(),
            key_schema: new_table.key_schema,
            ttl_attribute: None,
            created_millis: self.now_millis(),
            description: Json::Object(new_table.description).to_string(),
        };
        match self.store.create_table(record.clone()).await {
            Ok(()) => Ok(record),
            Err(sluice_store::Error::AlreadyExists { .. }) => Err(Error::new(
                ErrorCode::ResourceInUseException,
                format!("Table already exists: {}", new_table.name),
            )),
            Err(error) => Err(error.into()),
        }
    }

    pub(crate) async fn describe_table(&self, request: Json) -> Result<Json, Error> {
        let name = table_name_only(request)?;
        let record = self
            .store
            .table(&name)
            .await?
            .ok_or_else(|| Error::no_such_table(&name))?;
        Ok(json!({"Table": self.describe(&record, None).await?}))
    }

    pub(crate) async fn delete_table(&self, request: Json) -> Result<Json, Error> {
        let name = table_name_only(request)?;
        let Some(record) = self.store.table(&name).await? else {
            return Err(Error::no_such_table(&name));
        };
        let description = self.describe(&record, Some("DELETING")).await?;
        match self.store.delete_table(&name).await {
            Ok(_) => Ok(json!({"TableDescription": description})),
            Err(sluice_store::Error::NotFound { .. }) => Err(Error::no_such_table(&name)),
            Err(error) => Err(error.into()),
        }
    }

    pub(crate) async fn list_tables(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let after = request.string("ExclusiveStartTableName");
        let limit = request.integer("Limit", 1, 100).unwrap_or(100) as usize;
        request.finish()?;
        let mut names = self.store.list_tables(after.as_deref(), limit + 1).await?;
        let more = names.len() > limit;
        names.truncate(limit);
        let mut answer = json!({"TableNames": names});
        if more && let Some(last) = names.last() {
            answer["LastEvaluatedTableName"] = json!(last);
        }
        Ok(answer)
    }

    pub(crate) async fn update_time_to_live(&self, request: Json) -> Result<Json, Error> {
        let mut request = Request::new(request)?;
        let name = request.table_name("TableName");
        let specification = request.object("TimeToLiveSpecification");
        if specification.is_none() && !request.has_problems() {
            request.violation("TimeToLiveSpecification", None, "Member must not be null");
        }
        let mut specification = Request::nested(specification.unwrap_or_default(), "timeToLiveSpecification".into());
        let attribute = specification.string("AttributeName");
        let enabled = specification.boolean("Enabled");
        if attribute.is_none() {
            specification.violation("AttributeName", None, "Member must not be null");
        }
        if enabled.is_none() {
            specification.violation("Enabled", None, "Member must not be null");
        }
        request.finish()?;
        specification.finish()?;
        let (attribute, enabled) = (attribute.unwrap_or_default(), enabled.unwrap_or_default());
        if attribute.is_empty() || attribute.len() > 255 {
            return Err(Error::validation(
                "TimeToLiveSpecification AttributeName must be between 1 and 255 characters long",
            ));
        }
        let table = self
            .store
            .table(&name)
            .await?
            .ok_or_else(|| Error::no_such_table(&name))?;
        match (&table.ttl_attribute, enabled) {
            (Some(_), true) => return Err(Error::validation("TimeToLive is already enabled")),
            (None, false) => return Err(Error::validation("TimeToLive is already disabled")),
            (Some(current), false) if *current != attribute => {
                return Err(Error::validation(format!(
                    "The TimeToLive attribute is {current}, not {attribute}"
                )));
            }
            _ => {}
        }
        self.store
            .set_time_to_live(&name, enabled.then(|| attribute.clone()))
            .await?;
        Ok(json!({"TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": enabled}}))
    }

    pub(crate) async fn describe_time_to_live(&self, request: Json) -> Result<Json, Error> {
        let name = table_name_only(request)?;
        let table = self
            .store
            .table(&name)
            .await?
            .ok_or_else(|| Error::no_such_table(&name))?;
        Ok(match table.ttl_attribute {
            Some(attribute) => {
                json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": attribute}})
            }
            None => json!({"TimeToLiveDescription": {"TimeToLiveStatus": "DISABLED"}}),
        })
    }

    /// A table's description, as DescribeTable answers it.
    async fn describe(&self, record: &TableRecord, status: Option<&str>) -> Result<Json, Error> {
        let usage = self.store.table_usage(&record.name, self.now_seconds()).await;
        let usage = match usage {
            Ok(usage) => usage,
            Err(sluice_store::Error::NotFound { .. }) => Default::default(),
            Err(error) => return Err(error.into()),
        };
        let mut stored: Map<String, Json> = serde_json::from_str(&record.description).unwrap_or_default();
        let mut key_schema = vec![json!({"AttributeName": record.key_schema.partition.name, "KeyType": "HASH"})];
        if let Some(sort) = &record.key_schema.sort {
            key_schema.push(json!({"AttributeName": sort.name, "KeyType": "RANGE"}));
        }
        let created_seconds = record.created_millis as f64 / 1000.0;
        let billing_mode = stored
            .get("BillingMode")
            .and_then(Json::as_str)
            .unwrap_or("PROVISIONED")
            .to_owned();
        let mut description = json!({
            "TableName": record.name,
            "TableArn": format!("arn:aws:dynamodb:{}:{}:table/{}", self.options.region, self.options.account, record.name),
            "TableId": stored.remove("TableId").unwrap_or(Json::Null),
            "TableStatus": status.unwrap_or("ACTIVE"),
            "CreationDateTime": created_seconds,
            "KeySchema": key_schema,
            "AttributeDefinitions": stored.remove("AttributeDefinitions").unwrap_or_else(|| json!([])),
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": stored.get("ReadCapacityUnits").cloned().unwrap_or(json!(0)),
                "WriteCapacityUnits": stored.get("WriteCapacityUnits").cloned().unwrap_or(json!(0)),
            },
            "ItemCount": usage.item_count,
            "TableSizeBytes": usage.size_bytes,
            "DeletionProtectionEnabled": false,
        });
        if billing_mode == "PAY_PER_REQUEST" {
            description["BillingModeSummary"] = json!({
                "BillingMode": "PAY_PER_REQUEST",
                "LastUpdateToPayPerRequestDateTime": created_seconds,
            });
        }
        Ok(description)
    }
}

/// A request whose only member is `TableName`.
fn table_name_only(request: Json) -> Result<String, Error> {
    let mut request = Request::new(request)?;
    let name = request.table_name("TableName");
    request.finish()?;
    Ok(name)
}

/// Checks a CreateTable request as DynamoDB does, in its order: the members' constraints, then
/// the key schema, then the attribute definitions against it, then billing.
fn parse_create_table(request: Json) -> Result<NewTable, Error> {
    let mut request = Request::new(request)?;
    let name = request.table_name("TableName");
    let key_schema = request.required_list("KeySchema", 1, 2);
    let definitions = request.required_list("AttributeDefinitions", 0, usize::MAX);
    let billing_mode = request.enumeration("BillingMode", &["PROVISIONED", "PAY_PER_REQUEST"]);
    let throughput = request.object("ProvisionedThroughput");
    for index_member in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        if request.take(index_member).is_some() {
            return Err(Error::validation(format!(
                "Sluice does not support secondary indexes yet: {index_member} cannot be given"
            )));
        }
    }
    // Accepted and not kept: these change nothing on one machine.
    for ignored in [
        "StreamSpecification",
        "SSESpecification",
        "Tags",
        "TableClass",
        "DeletionProtectionEnabled",
        "OnDemandThroughput",
        "WarmThroughput",
        "ResourcePolicy",
    ] {
        request.take(ignored);
    }
    // 1. Each key schema element and definition is well formed.
    let mut keys: Vec<(String, String)> = Vec::new();
    for (position, element) in key_schema.iter().enumerate() {
        let prefix = format!("keySchema.{}.member", position + 1);
        let Json::Object(element) = element else {
            return Err(Error::new(
                ErrorCode::SerializationException,
                format!("Expected an object at '{prefix}'."),
            ));
        };
        let mut element = Request::nested(element.clone(), prefix);
        let attribute = element.required_string("AttributeName");
        let key_type = element.enumeration("KeyType", &["HASH", "RANGE"]);
        if key_type.is_none() && !element.has_problems() {
            element.violation("KeyType", None, "Member must not be null");
        }
        element.finish()?;
        keys.push((attribute, key_type.unwrap_or_default()));
    }
    let mut defined: Vec<(String, ScalarType)> = Vec::new();
    for (position, definition) in definitions.iter().enumerate() {
        let prefix = format!("attributeDefinitions.{}.member", position + 1);
        let Json::Object(definition) = definition else {
            return Err(Error::new(
                ErrorCode::SerializationException,
                format!("Expected an object at '{prefix}'."),
            ));
        };
        let mut definition = Request::nested(definition.clone(), prefix);
        let attribute = definition.required_string("AttributeName");
        let scalar = definition.enumeration("AttributeType", &["B", "N", "S"]);
        if scalar.is_none() && !definition.has_problems() {
            definition.violation("AttributeType", None, "Member must not be null");
        }
        definition.finish()?;
        let scalar_type = match scalar.as_deref() {
            Some("N") => ScalarType::N,
            Some("B") => ScalarType::B,
            _ => ScalarType::S,
        };
        defined.push((attribute, scalar_type));
    }
    request.finish()?;
    // 2. The key schema: a HASH key first, then at most one RANGE key of another name.
    let Some((partition_name, partition_type)) = keys.first() else {
        return Err(Error::validation(
            "Invalid KeySchema: Some index key attributes are not defined",
        ));
    };
    if partition_type != "HASH" {
        return Err(Error::validation(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some((sort_name, sort_type)) = keys.get(1) {
        if sort_type != "RANGE" {
            return Err(Error::validation(
                "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            ));
        }
        if sort_name == partition_name {
            return Err(Error::validation(
                "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            ));
        }
    }
    // 3. Definitions: no name twice, every key defined, nothing defined that no key uses.
    for (position, (attribute, _)) in defined.iter().enumerate() {
        if defined[..position].iter().any(|(earlier, _)| earlier == attribute) {
            return Err(Error::validation(format!(
                "Cannot have two attributes with the same name: {attribute}"
            )));
        }
    }
    let type_of = |name: &str| {
        defined
            .iter()
            .find(|(defined, _)| defined == name)
            .map(|(_, scalar)| *scalar)
    };
    if keys.iter().any(|(name, _)| type_of(name).is_none()) {
        return Err(Error::validation(
            "Invalid KeySchema: Some index key attribute have no definition",
        ));
    }
    if defined.len() != keys.len() {
        return Err(Error::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let key_attribute = |name: &str| KeyAttribute {
        name: name.to_owned(),
        scalar_type: type_of(name).unwrap_or(ScalarType::S),
    };
    let schema = KeySchema {
        partition: key_attribute(partition_name),
        sort: keys.get(1).map(|(name, _)| key_attribute(name)),
    };
    // 4. Billing: on demand takes no throughput; provisioned (the default) needs both units.
    let billing_mode = billing_mode.unwrap_or_else(|| "PROVISIONED".to_owned());
    let mut description = Map::new();
    match (billing_mode.as_str(), &throughput) {
        ("PAY_PER_REQUEST", Some(_)) => {
            return Err(Error::validation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        ("PROVISIONED", None) => {
            return Err(Error::validation("No provisioned throughput specified for the table"));
        }
        ("PROVISIONED", Some(throughput)) => {
            let mut throughput = Request::nested(throughput.clone(), "provisionedThroughput".into());
            let read = throughput.integer("ReadCapacityUnits", 1, i64::MAX);
            let write = throughput.integer("WriteCapacityUnits", 1, i64::MAX);
            if read.is_none() {
                throughput.violation("ReadCapacityUnits", None, "Member must not be null");
            }
            if write.is_none() {
                throughput.violation("WriteCapacityUnits", None, "Member must not be null");
            }
            throughput.finish()?;
            description.insert("ReadCapacityUnits".into(), json!(read));
            description.insert("WriteCapacityUnits".into(), json!(write));
        }
        _ => {}
    }
    description.insert("BillingMode".into(), json!(billing_mode));
    description.insert("TableId".into(), json!(uuid::Uuid::new_v4().to_string()));
    description.insert(
        "AttributeDefinitions".into(),
        Json::Array(
            defined
                .iter()
                .map(|(name, scalar)| json!({"AttributeName": name, "AttributeType": scalar_name(*scalar)}))
                .collect(),
        ),
    );
    Ok(NewTable {
        name,
        key_schema: schema,
        description,
    })
}
