package dev.lagscaler.lag;

/** Why a trigger could not be measured in one poll; the message is safe to show (it never carries a secret). */
public record TriggerError(Kind kind, String message) {
    public enum Kind {
        /** No broker answered in time. */
        BROKER_UNREACHABLE,
        /** The client's own login was refused (SASL, TLS handshake): every request of that client fails. */
        AUTH_FAILED,
        /** The client is logged in, but an ACL denies it one group, topic or cluster operation. */
        NOT_AUTHORIZED,
        TOPIC_MISSING, GROUP_UNKNOWN, OTHER;

        /**
         * Failures that can belong to the client itself, so rebuilding it may help. A refused authorization never
         * does: it is about one resource, and the same client serves every other trigger of the cluster.
         */
        public boolean rebuildsClient() {
            return this == BROKER_UNREACHABLE || this == AUTH_FAILED;
        }
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
