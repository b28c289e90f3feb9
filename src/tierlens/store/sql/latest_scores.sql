-- grain: one row of {table} per row of the version last applied to its conversation
-- (applied_versions, component {component}); without one, the version bound as $1.
-- Filled in by tierlens.store.outcomes.read_inputs with fixed identifiers, never user input.
SELECT {cols}
FROM {table} s
LEFT JOIN applied_versions a
  ON a.conversation_id = s.conversation_id AND a.component = '{component}'
WHERE s.{version} = coalesce(a.version, ?)
