"""Everything the messaging app writes, and every event it sends, one module per concern.

- ``events``: the one place events leave the server (through the channel layer), and
  only after the commit of what they announce;
- ``messages``: sending (admission, then the group-commit writer) and reading messages;
- ``writer``: the writer's batch of checks and SQL, on its own thread and connection;
- ``receipts``: read receipts and typing notices;
- ``epochs``: new epochs and the envelopes of their keys;
- ``invitations``: a therapist's invitation (and a new link for a pending one) and a
  client's sign-up through it;
- ``inbox``: a member's own label for a conversation and its archive, shown to them only;
- ``recoveries``: a client's assisted recovery as their therapist sees it, the envelopes of
  their history wrapped to the new identity, and the confirmation that gives them back;
- ``sessions``: whether a socket's session still holds, and closing sockets when access ends.

Each service checks (membership, status, shapes) before it writes, writes in one
transaction, and announces after the commit. The channel layer is a notification path, at
most once: nothing here depends on an event arriving; clients recover with ``sync``.
"""
