package dev.lagscaler.scaling;

/** A status condition as KEDA writes it: status True/False/Unknown, a CamelCase reason, a message. */
public record Condition(String status, String reason, String message) {
    public static Condition yes(String reason, String message) {
        return new Condition("True", reason, message);
    }

    public static Condition no(String reason, String message) {
        return new Condition("False", reason, message);
    }

    public static Condition unknown(String reason, String message) {
        return new Condition("Unknown", reason, message);
    }
}
