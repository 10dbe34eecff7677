package dev.lagscaler.trigger;

/**
 * KEDA's external metric naming: {@code s<index>-<name>}, with the name normalised as KEDA's
 * {@code util.NormalizeString} does, so HPAs and dashboards keep their metric names across a migration.
 */
public final class MetricNames {
    /** The characters KEDA replaces by {@code -}; every other character (underscores too) is kept. */
    private static final String REPLACED = "/.:%()";

    private MetricNames() {
    }

    public static String withIndex(int triggerIndex, String name) {
        return "s" + triggerIndex + "-" + normalize(name);
    }

    /** The trigger index in a name made by {@link #withIndex}; 0 for any other name. */
    public static int triggerIndex(String metricName) {
        int dash = metricName.indexOf('-');
        if (!metricName.startsWith("s") || dash < 2) {
            return 0;
        }
        try {
            return Integer.parseInt(metricName.substring(1, dash));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** Each of {@code / . : % ( )} becomes {@code -}; nothing else changes. */
    public static String normalize(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            out.append(REPLACED.indexOf(c) >= 0 ? '-' : c);
        }
        return out.toString();
    }
}
