package dev.lagscaler.controller;

/**
 * Whether this operator may act on an object now. A reconcile enters with the object's uid and holds the pass until
 * it has written everything it writes: a sharded operator gives an object away only once no pass on it is open.
 */
interface Ownership {
    /** Everything is ours: the single-leader mode, where the Lease decides whether anything runs at all. */
    Ownership ALL = uid -> Pass.HELD;

    Pass enter(String uid);

    /** An open reconcile pass on one object. */
    interface Pass extends AutoCloseable {
        Pass HELD = () -> true;

        boolean held();

        @Override
        default void close() {
        }
    }
}
