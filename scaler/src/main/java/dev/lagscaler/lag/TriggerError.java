package dev.lagscaler.lag;

/** Why a trigger could not be measured in one poll; the message is safe to show (it never carries a secret). */
public record TriggerError(Kind kind, String message) {
    public enum Kind {
        BROKER_UNREACHABLE, AUTH_FAILED, TOPIC_MISSING, GROUP_UNKNOWN, OTHER;

        /** Failures that mean the client itself should be rebuilt before the next try. */
        public boolean rebuildsClient() {
            return this == BROKER_UNREACHABLE || this == AUTH_FAILED;
        }
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
