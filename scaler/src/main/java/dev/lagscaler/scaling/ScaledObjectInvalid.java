package dev.lagscaler.scaling;

/** A ScaledObject that cannot be acted on; the message says why, in words a user can act on. */
public final class ScaledObjectInvalid extends Exception {
    private final String reason;

    public ScaledObjectInvalid(String reason, String message) {
        super(message);
        this.reason = reason;
    }

    /** The condition reason, e.g. ScaledObjectCheckFailed or UnsupportedTrigger. */
    public String reason() {
        return reason;
    }
}
