"""The audit log (DESIGN.md section 6; docs/records.md): who did what, when and from
where, append-only and hash-chained, so that an edited, deleted, inserted or reordered row
is found by ``confide audit verify``.

``audit.log.record`` writes an event; ``audit.log.verify`` checks the chain. The app knows
nothing of the rest of the server: accounts and messaging call it, and it stores people and
conversations by their ids, as plain values, so that no later change elsewhere can edit a
row of the log. An event never holds message content, a key, a secret or a token.
"""
