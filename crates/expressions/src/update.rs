//! Update expressions: the parsed form and how it applies to an item.
//!
//! Spec: "Using update expressions in DynamoDB"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html>).
//! Behaviours the guide leaves open follow what DynamoDB does:
//! 1. every value on a right-hand side is read from the item as it was before the update
//!    (`SET x = :v, y = x` fails if `x` did not exist);
//! 2. list indexes refer to the list before the update (`REMOVE a[1] SET a[3] = :v` replaces
//!    the old fourth element), and `SET` past the end appends, in index order;
//! 3. a `SET`, `ADD` or `DELETE` whose parent is missing or not a map/list is an error, as is a
//!    `REMOVE` of such a path, except that `REMOVE` on an item that does not exist does nothing;
//! 4. `DELETE` that empties a set removes the attribute.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::key::KeySchema;
use crate::path::{DocumentPath, PathElement};
use crate::value::{AttributeValue, Item, MAX_ITEM_SIZE, MAX_NESTING_DEPTH, ValueError, item_size};

/// A value on the right of `SET path =`: a path, a literal, or a function of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetOperand {
    /// The value at a path (must exist).
    Path(DocumentPath),
    /// A literal value.
    Value(AttributeValue),
    /// `if_not_exists(path, fallback)`: the value at `path`, or the fallback.
    IfNotExists(DocumentPath, Box<SetOperand>),
    /// `list_append(a, b)`: two lists concatenated.
    ListAppend(Box<SetOperand>, Box<SetOperand>),
}

/// The right-hand side of a `SET` action.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SetValue {
    /// A single operand.
    Operand(SetOperand),
    /// `a + b` (numbers).
    Plus(SetOperand, SetOperand),
    /// `a - b` (numbers).
    Minus(SetOperand, SetOperand),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UpdateAction {
    /// `SET path = value`.
    Set {
        /// The target.
        path: DocumentPath,
        /// The value written.
        value: SetValue,
    },
    /// `REMOVE path`.
    Remove {
        /// The target.
        path: DocumentPath,
    },
    /// `ADD path :v`: add a number, or add members to a set.
    Add {
        /// The target.
        path: DocumentPath,
        /// A number or a set.
        value: AttributeValue,
    },
    /// `DELETE path :v`: remove members from a set.
    Delete {
        /// The target.
        path: DocumentPath,
        /// A set.
        value: AttributeValue,
    },
}

/// A parsed `UpdateExpression`: its actions in source order, with no two targets overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpdateExpression {
    pub(crate) actions: Vec<UpdateAction>,
}

/// What applying an update gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// The item after the update.
    pub item: Item,
    /// The paths the update wrote, as they were in the old item (for `UPDATED_OLD`).
    pub updated_old: Vec<DocumentPath>,
    /// The paths the update wrote, where they are in the new item (for `UPDATED_NEW`);
    /// removed paths are not listed.
    pub updated_new: Vec<DocumentPath>,
}

impl UpdateAction {
    /// The path the action writes.
    pub fn path(&self) -> &DocumentPath {
        match self {
            UpdateAction::Set { path, .. }
            | UpdateAction::Remove { path }
            | UpdateAction::Add { path, .. }
            | UpdateAction::Delete { path, .. } => path,
        }
    }
}

impl UpdateExpression {
    /// An update with no actions: what UpdateItem does without an `UpdateExpression` (it creates
    /// the item from its key when absent and otherwise changes nothing).
    pub fn empty() -> UpdateExpression {
        UpdateExpression { actions: Vec::new() }
    }

    /// The actions, in source order.
    pub fn actions(&self) -> &[UpdateAction] {
        &self.actions
    }

    /// Fails if an action writes a key attribute, which UpdateItem may not do.
    pub fn check_key_attributes(&self, schema: &KeySchema) -> Result<(), Error> {
        match self
            .actions
            .iter()
            .find(|action| schema.is_key(action.path().attribute_name()))
        {
            Some(action) => Err(Error::UpdatesKey {
                name: action.path().attribute_name().to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Applies the update to an item (`None` if it does not exist yet, in which case it starts
    /// empty; the caller adds the key attributes). Fails, leaving nothing changed, on a path that
    /// does not fit the item, a missing operand, a type mismatch, a number out of range or an
    /// item over 400 KB.
    pub fn apply(&self, item: Option<&Item>) -> Result<UpdateOutcome, Error> {
        let exists = item.is_some();
        let original = item.cloned().unwrap_or_default();

        // 1. Every right-hand side is evaluated against the original item.
        let mut set_values = Vec::new();
        for action in &self.actions {
            if let UpdateAction::Set { value, .. } = action {
                set_values.push(evaluate_set_value(value, &original)?);
            }
        }
        let mut set_values = set_values.into_iter();

        // 2. Actions that keep list positions: replacements, map writes and removals, ADD,
        //    DELETE. Appends and list-element removals wait, so indexes stay the original ones.
        let mut current = original.clone();
        let mut appends: Vec<(DocumentPath, AttributeValue)> = Vec::new();
        let mut removals: Vec<DocumentPath> = Vec::new();
        let mut removed_by_action = vec![false; self.actions.len()];
        for (position, action) in self.actions.iter().enumerate() {
            match action {
                UpdateAction::Set { path, .. } => {
                    let value = set_values.next().ok_or(Error::InvalidDocumentPath)?;
                    if is_append(&current, path)? {
                        appends.push((path.clone(), value));
                    } else {
                        write(&mut current, path, value)?;
                    }
                }
                UpdateAction::Remove { path } => {
                    removed_by_action[position] = true;
                    remove(&mut current, path, exists, &mut removals)?;
                }
                UpdateAction::Add { path, value } => {
                    let sum = match path.get(&current) {
                        None => value.clone(),
                        Some(existing) => add(existing, value)?,
                    };
                    if is_append(&current, path)? {
                        appends.push((path.clone(), sum));
                    } else {
                        write(&mut current, path, sum)?;
                    }
                }
                UpdateAction::Delete { path, value } => {
                    check_parent(&current, path, exists)?;
                    let Some(existing) = path.get(&current) else { continue };
                    match subtract(existing, value)? {
                        Some(rest) => write(&mut current, path, rest)?,
                        None => {
                            removed_by_action[position] = true;
                            remove(&mut current, path, exists, &mut removals)?;
                        }
                    }
                }
            }
        }

        // 3. Appends, in index order, then list-element removals from the highest index down.
        appends.sort_by(|left, right| left.0.cmp(&right.0));
        let mut appended_at: BTreeMap<DocumentPath, DocumentPath> = BTreeMap::new();
        for (path, value) in appends {
            let parent = parent_of(&path);
            let Some(AttributeValue::L(list)) = get_mut(&mut current, parent) else {
                return Err(Error::InvalidDocumentPath);
            };
            appended_at.insert(
                path.clone(),
                DocumentPath::from_elements(parent.to_vec()).index(list.len()),
            );
            list.push(value);
        }
        removals.sort();
        let mut applied_removals = Vec::new();
        for path in removals.iter().rev() {
            let (parent, last) = (parent_of(path), path.elements().last());
            if let (Some(AttributeValue::L(list)), Some(PathElement::Index(index))) =
                (get_mut(&mut current, parent), last)
                && *index < list.len()
            {
                list.remove(*index);
                applied_removals.push(path.clone());
            }
        }

        // 4. The result must still be a valid item.
        if current.values().any(|value| depth(value) > MAX_NESTING_DEPTH) {
            return Err(Error::Value(ValueError::TooDeep));
        }
        if item_size(&current) > MAX_ITEM_SIZE {
            return Err(Error::ItemTooLarge);
        }

        let updated_old = self.actions.iter().map(|action| action.path().clone()).collect();
        let updated_new = self
            .actions
            .iter()
            .zip(&removed_by_action)
            .filter(|(_, removed)| !**removed)
            .map(|(action, _)| {
                let path = appended_at
                    .get(action.path())
                    .cloned()
                    .unwrap_or_else(|| action.path().clone());
                shift_for_removals(&path, &applied_removals)
            })
            .collect();
        Ok(UpdateOutcome {
            item: current,
            updated_old,
            updated_new,
        })
    }
}

fn evaluate_set_value(value: &SetValue, item: &Item) -> Result<AttributeValue, Error> {
    match value {
        SetValue::Operand(operand) => evaluate_operand(operand, item),
        SetValue::Plus(left, right) | SetValue::Minus(left, right) => {
            let (left, right) = (evaluate_operand(left, item)?, evaluate_operand(right, item)?);
            let (AttributeValue::N(left), AttributeValue::N(right)) = (&left, &right) else {
                return Err(Error::IncorrectDataType);
            };
            let result = if matches!(value, SetValue::Plus(..)) {
                left.checked_add(right)
            } else {
                left.checked_sub(right)
            };
            Ok(AttributeValue::N(result?))
        }
    }
}

fn evaluate_operand(operand: &SetOperand, item: &Item) -> Result<AttributeValue, Error> {
    match operand {
        SetOperand::Value(value) => Ok(value.clone()),
        SetOperand::Path(path) => path.get(item).cloned().ok_or(Error::MissingAttribute),
        SetOperand::IfNotExists(path, fallback) => match path.get(item) {
            Some(value) => Ok(value.clone()),
            None => evaluate_operand(fallback, item),
        },
        SetOperand::ListAppend(left, right) => match (evaluate_operand(left, item)?, evaluate_operand(right, item)?) {
            (AttributeValue::L(mut left), AttributeValue::L(right)) => {
                left.extend(right);
                Ok(AttributeValue::L(left))
            }
            _ => Err(Error::IncorrectDataType),
        },
    }
}

/// `ADD`: a number to a number, or a set's members to a set of the same type.
fn add(existing: &AttributeValue, value: &AttributeValue) -> Result<AttributeValue, Error> {
    Ok(match (existing, value) {
        (AttributeValue::N(left), AttributeValue::N(right)) => AttributeValue::N(left.checked_add(right)?),
        (AttributeValue::Ss(left), AttributeValue::Ss(right)) => AttributeValue::Ss(union(left, right)),
        (AttributeValue::Ns(left), AttributeValue::Ns(right)) => AttributeValue::Ns(union(left, right)),
        (AttributeValue::Bs(left), AttributeValue::Bs(right)) => AttributeValue::Bs(union(left, right)),
        _ => return Err(Error::IncorrectDataType),
    })
}

/// `DELETE`: the set without the given members, or `None` if nothing is left.
fn subtract(existing: &AttributeValue, value: &AttributeValue) -> Result<Option<AttributeValue>, Error> {
    fn rest<T: PartialEq + Clone>(left: &[T], right: &[T]) -> Vec<T> {
        left.iter().filter(|member| !right.contains(member)).cloned().collect()
    }
    let result = match (existing, value) {
        (AttributeValue::Ss(left), AttributeValue::Ss(right)) => AttributeValue::Ss(rest(left, right)),
        (AttributeValue::Ns(left), AttributeValue::Ns(right)) => AttributeValue::Ns(rest(left, right)),
        (AttributeValue::Bs(left), AttributeValue::Bs(right)) => AttributeValue::Bs(rest(left, right)),
        _ => return Err(Error::IncorrectDataType),
    };
    let empty = match &result {
        AttributeValue::Ss(set) => set.is_empty(),
        AttributeValue::Ns(set) => set.is_empty(),
        AttributeValue::Bs(set) => set.is_empty(),
        _ => false,
    };
    Ok(if empty { None } else { Some(result) })
}

fn union<T: Ord + Clone>(left: &[T], right: &[T]) -> Vec<T> {
    let mut members: Vec<T> = left.iter().chain(right).cloned().collect();
    members.sort();
    members.dedup();
    members
}

fn parent_of(path: &DocumentPath) -> &[PathElement] {
    &path.elements()[..path.elements().len() - 1]
}

/// The value at a path (given as elements), mutably.
fn get_mut<'a>(item: &'a mut Item, elements: &[PathElement]) -> Option<&'a mut AttributeValue> {
    let (first, rest) = elements.split_first()?;
    let PathElement::Name(name) = first else { return None };
    let mut value = item.get_mut(name)?;
    for element in rest {
        value = match (element, value) {
            (PathElement::Name(key), AttributeValue::M(map)) => map.get_mut(key)?,
            (PathElement::Index(index), AttributeValue::L(list)) => list.get_mut(*index)?,
            _ => return None,
        };
    }
    Some(value)
}

/// Whether writing `path` appends to a list: its last step is an index at or past the end.
fn is_append(item: &Item, path: &DocumentPath) -> Result<bool, Error> {
    let Some(PathElement::Index(index)) = path.elements().last() else {
        return Ok(false);
    };
    let parent = DocumentPath::from_elements(parent_of(path).to_vec());
    match parent.get(item) {
        Some(AttributeValue::L(list)) => Ok(*index >= list.len()),
        _ => Err(Error::InvalidDocumentPath),
    }
}

/// Writes a value at a path whose parent must exist and be a map (for a key) or a list (for
/// an index within it).
fn write(item: &mut Item, path: &DocumentPath, value: AttributeValue) -> Result<(), Error> {
    if path.is_top_level() {
        item.insert(path.attribute_name().to_owned(), value);
        return Ok(());
    }
    let last = path.elements().last();
    match (get_mut(item, parent_of(path)), last) {
        (Some(AttributeValue::M(map)), Some(PathElement::Name(key))) => {
            map.insert(key.clone(), value);
            Ok(())
        }
        (Some(AttributeValue::L(list)), Some(PathElement::Index(index))) if *index < list.len() => {
            list[*index] = value;
            Ok(())
        }
        _ => Err(Error::InvalidDocumentPath),
    }
}

/// Checks that a path's parent exists with the right type (a map for a key, a list for an
/// index), unless the item does not exist at all.
fn check_parent(item: &Item, path: &DocumentPath, exists: bool) -> Result<(), Error> {
    if path.is_top_level() || !exists {
        return Ok(());
    }
    let parent = DocumentPath::from_elements(parent_of(path).to_vec());
    match (parent.get(item), path.elements().last()) {
        (Some(AttributeValue::M(_)), Some(PathElement::Name(_))) => Ok(()),
        (Some(AttributeValue::L(_)), Some(PathElement::Index(_))) => Ok(()),
        _ => Err(Error::InvalidDocumentPath),
    }
}

/// Removes a map entry now, or schedules a list element's removal.
fn remove(item: &mut Item, path: &DocumentPath, exists: bool, removals: &mut Vec<DocumentPath>) -> Result<(), Error> {
    if path.is_top_level() {
        item.remove(path.attribute_name());
        return Ok(());
    }
    if !exists {
        return Ok(());
    }
    check_parent(item, path, exists)?;
    match (get_mut(item, parent_of(path)), path.elements().last()) {
        (Some(AttributeValue::M(map)), Some(PathElement::Name(key))) => {
            map.remove(key);
        }
        _ => removals.push(path.clone()),
    }
    Ok(())
}

/// Where a path written in the old item's list positions ends up after the removals.
fn shift_for_removals(path: &DocumentPath, removals: &[DocumentPath]) -> DocumentPath {
    let mut elements = path.elements().to_vec();
    for (position, element) in elements.iter_mut().enumerate() {
        let PathElement::Index(original) = *element else {
            continue;
        };
        let removed_before = removals
            .iter()
            .filter(|removal| {
                removal.elements().len() == position + 1
                    && removal.elements()[..position] == path.elements()[..position]
                    && matches!(removal.elements()[position], PathElement::Index(index) if index < original)
            })
            .count();
        *element = PathElement::Index(original - removed_before);
    }
    DocumentPath::from_elements(elements)
}

fn depth(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::M(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        AttributeValue::L(list) => 1 + list.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
