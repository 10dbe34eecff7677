package dev.lagscaler.scaling;

/**
 * What one trigger contributes to a decision. {@code consecutiveFailures} counts the polls that failed in a row
 * (0 after a success); {@code message} carries the error or parse failure.
 */
public record TriggerOutcome(int index, String type, State state, boolean active, long metricValue,
                             int consecutiveFailures, String message) {
    public enum State {
        /** Measured in the latest poll. */
        MEASURED,
        /** The latest poll failed. */
        FAILED,
        /** Measured, but longer ago than the planner trusts for lowering replicas (the poll loop stopped?). */
        STALE,
        /** Not polled yet. */
        PENDING,
        /** cpu or memory: the HPA reads it from the resource metrics API; it never activates from zero. */
        RESOURCE,
        /** Its metadata or auth did not parse. */
        INVALID,
        /** A trigger type lagscaler does not implement. */
        UNSUPPORTED
    }

    public static TriggerOutcome measured(int index, long value, boolean active) {
        return new TriggerOutcome(index, "kafka", State.MEASURED, active, value, 0, null);
    }

    public static TriggerOutcome failed(int index, int consecutiveFailures, String message) {
        return new TriggerOutcome(index, "kafka", State.FAILED, false, 0, consecutiveFailures, message);
    }
}
