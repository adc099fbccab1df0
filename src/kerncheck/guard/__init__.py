"""Guards for the two dangerous commands: ``kerncheck fsck`` and ``kerncheck crash-test``. Both fail closed:
any check that cannot be evaluated is a refusal (exit status 64), with the reason and what to do instead."""
