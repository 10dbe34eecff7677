package dev.lagscaler.trigger;

/** KEDA's external metric naming: {@code s<index>-<name>}, normalised to characters the metrics API accepts. */
public final class MetricNames {
    private MetricNames() {
    }

    public static String withIndex(int triggerIndex, String name) {
        return "s" + triggerIndex + "-" + normalize(name);
    }

    /** Every character outside {@code [a-zA-Z0-9-]} becomes {@code -}. */
    public static String normalize(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
            out.append(allowed ? c : '-');
        }
        return out.toString();
    }
}
