package dev.lagscaler.controller;

import java.time.Duration;

/**
 * Whether this operator may act on an object now. A reconcile enters with the object's uid and holds the pass until
 * it has written everything it writes: a sharded operator gives an object away only once no pass on it is open.
 */
interface Ownership {
    /** Everything is ours: the single-leader mode, where the Lease decides whether anything runs at all. */
    Ownership ALL = uid -> Pass.HELD;

    /** When a pass that found its object {@linkplain Pass#fenced() fenced} comes back. */
    Duration FENCED_RETRY = Duration.ofSeconds(1);

    Pass enter(String uid);

    /** An open reconcile pass on one object. */
    interface Pass extends AutoCloseable {
        Pass HELD = () -> true;

        boolean held();

        /**
         * Not held only because this replica's Lease is late: the object is still its share, so the pass acts on
         * nothing, forgets nothing (registrations, values) and comes back, since no change of share will requeue it
         * when the renewal arrives.
         */
        default boolean fenced() {
            return false;
        }

        @Override
        default void close() {
        }
    }
}
