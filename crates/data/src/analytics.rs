//! The analytics the dashboard and CLI show, computed by SQLite over the whole store;
//! only the aggregated rows leave the database. Days are UTC calendar days.
//!
//! Grouping is done on the integer day number (`created_at / 86400000`) and only each
//! group's label is formatted, so the cost per row is one division.
//!
//! The TypeScript js implementation runs the same SQL text (checked by its tests).

use rusqlite::types::Value;

use crate::store::{Rows, Store};
use aios_error::{AiosError, Result};

/// Parameters shared by every query: `[from, to)` in ms, a row limit, an event type.
#[derive(Debug, Clone, Default)]
pub struct AnalyticsParams {
    pub from: i64,
    pub to: i64,
    pub limit: i64,
    pub event_type: Option<String>,
}

pub const MESSAGES_PER_DAY: &str = include_str!("../sql/analytics/messages_per_day.sql");

pub const TOKENS_PER_DAY: &str = include_str!("../sql/analytics/tokens_per_day.sql");

pub const TOKENS_PER_MODEL: &str = include_str!("../sql/analytics/tokens_per_model.sql");

pub const MEMORY_GROWTH: &str = include_str!("../sql/analytics/memory_growth.sql");

pub const TOP_FRAGMENTS: &str = include_str!("../sql/analytics/top_fragments.sql");

pub const FEEDBACK_PER_DAY: &str = include_str!("../sql/analytics/feedback_per_day.sql");

pub const FEEDBACK_SUMMARY: &str = include_str!("../sql/analytics/feedback_summary.sql");

pub const EVENTS_PER_DAY: &str = include_str!("../sql/analytics/events_per_day.sql");

/// The SQL of a named analytics query (the names the binding and TypeScript use).
pub fn sql_for(name: &str) -> Result<&'static str> {
    Ok(match name {
        "messagesPerDay" => MESSAGES_PER_DAY,
        "tokensPerDay" => TOKENS_PER_DAY,
        "tokensPerModel" => TOKENS_PER_MODEL,
        "memoryGrowth" => MEMORY_GROWTH,
        "topFragments" => TOP_FRAGMENTS,
        "feedbackPerDay" => FEEDBACK_PER_DAY,
        "feedbackSummary" => FEEDBACK_SUMMARY,
        "eventsPerDay" => EVENTS_PER_DAY,
        other => {
            return Err(AiosError::invalid(format!(
                "analytics: unknown query {other:?}"
            )))
        }
    })
}

/// Runs a named analytics query.
pub fn run(store: &Store, name: &str, p: &AnalyticsParams) -> Result<Rows> {
    let sql = sql_for(name)?;
    let params = [
        Value::Integer(p.from),
        Value::Integer(p.to),
        Value::Integer(p.limit),
        p.event_type.clone().map_or(Value::Null, Value::Text),
    ];
    // Each query uses a prefix of ?1..?4; bind only those it names.
    let used = (1..=4)
        .filter(|i| sql.contains(&format!("?{i}")))
        .max()
        .unwrap_or(0);
    store.query(sql, &params[..used])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::OpenOptions;
    use crate::store::{EventBatch, MessageBatch};

    const DAY: f64 = 86_400_000.0;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn all() -> AnalyticsParams {
        AnalyticsParams {
            from: 0,
            to: i64::MAX,
            limit: 10,
            event_type: None,
        }
    }

    #[test]
    fn messages_and_tokens_by_day_and_model() {
        let st = Store::open(":memory:", &OpenOptions::default()).unwrap();
        st.exec(
            "INSERT INTO conversations VALUES ('a', NULL, '{}', 0, 0), ('b', NULL, '{}', 0, 0)",
        )
        .unwrap();
        st.add_messages(&MessageBatch {
            conversation_ids: &s(&["a", "a", "b", "b"]),
            roles: &s(&["user", "assistant", "user", "assistant"]),
            contents: &s(&["q", "r", "q", "r"]),
            models: &s(&["", "m1", "", "m2"]),
            prompt_tokens: &[0.0, 10.0, 0.0, 5.0],
            completion_tokens: &[0.0, 20.0, 0.0, 7.0],
            metadata: &s(&["{}", "{}", "{}", "{}"]),
            timestamps: &[1.0, 2.0, DAY + 1.0, DAY + 2.0],
        })
        .unwrap();
        let r = run(&st, "messagesPerDay", &all()).unwrap();
        assert_eq!(r.columns, s(&["day", "messages", "conversations"]));
        assert_eq!(
            r.rows[1],
            vec![
                Value::Text("1970-01-02".into()),
                Value::Integer(2),
                Value::Integer(1)
            ]
        );
        let r = run(&st, "tokensPerModel", &all()).unwrap();
        assert_eq!(r.rows[0][0], Value::Text("m1".into()));
        assert_eq!(r.rows[0][4], Value::Integer(30));
        let r = run(
            &st,
            "messagesPerDay",
            &AnalyticsParams {
                from: DAY as i64,
                ..all()
            },
        )
        .unwrap();
        assert_eq!(r.rows.len(), 1);
    }

    #[test]
    fn events_filter_by_type() {
        let st = Store::open(":memory:", &OpenOptions::default()).unwrap();
        st.add_events(&EventBatch {
            types: &s(&["a", "b"]),
            type_index: &[0, 1, 0],
            values: &[1.0, 2.0, 3.0],
            has_data: &[0, 0, 0],
            data: &[],
            timestamps: &[0.0, 0.0, 0.0],
        })
        .unwrap();
        let r = run(
            &st,
            "eventsPerDay",
            &AnalyticsParams {
                event_type: Some("a".into()),
                ..all()
            },
        )
        .unwrap();
        assert_eq!(r.rows.len(), 1);
        assert_eq!(r.rows[0][3], Value::Real(4.0));
        assert_eq!(sql_for("nope").unwrap_err().code, "INVALID_INPUT");
    }
}
