package dev.lagscaler.scaling;

import dev.lagscaler.KedaKeys;
import java.util.Map;

/**
 * Annotation booleans as KEDA reads them: Go's {@code strconv.ParseBool} (1, t, T, TRUE, true, True and the same
 * forms of false), with KEDA's answer for a value that is neither given by the caller. One place, so the operator and
 * {@code explain} read every annotation alike.
 */
public final class KedaBoolean {
    private KedaBoolean() {
    }

    /** The value parsed; {@code whenAbsent} for null, {@code whenUnparsable} for anything ParseBool refuses. */
    public static boolean read(String value, boolean whenAbsent, boolean whenUnparsable) {
        if (value == null) {
            return whenAbsent;
        }
        return switch (value) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> whenUnparsable;
        };
    }

    /** {@code autoscaling.keda.sh/paused}: KEDA pauses on a value it cannot parse (the user meant something). */
    public static boolean paused(Map<String, String> annotations) {
        return read(annotations.get(KedaKeys.PAUSED), false, true);
    }

    /** {@code paused-scale-in}: as {@link #paused}, an unparsable value blocks scale-in. */
    public static boolean pausedScaleIn(Map<String, String> annotations) {
        return read(annotations.get(KedaKeys.PAUSED_SCALE_IN), false, true);
    }

    /** {@code paused-scale-out}: as {@link #paused}, an unparsable value blocks scale-out. */
    public static boolean pausedScaleOut(Map<String, String> annotations) {
        return read(annotations.get(KedaKeys.PAUSED_SCALE_OUT), false, true);
    }

    /** {@code force-activation}: only a value ParseBool reads as true forces. */
    public static boolean forceActivation(Map<String, String> annotations) {
        return read(annotations.get(KedaKeys.FORCE_ACTIVATION), false, false);
    }

    /** {@code transfer-hpa-ownership}: only a value ParseBool reads as true transfers. */
    public static boolean transferHpaOwnership(Map<String, String> annotations) {
        return read(annotations.get(KedaKeys.TRANSFER_HPA_OWNERSHIP), false, false);
    }
}
