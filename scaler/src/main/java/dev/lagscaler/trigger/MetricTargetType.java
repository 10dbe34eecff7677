package dev.lagscaler.trigger;

/** The HPA target type of a trigger's External metric ({@code metricType} on the trigger). */
public enum MetricTargetType {
    AVERAGE_VALUE("AverageValue"), VALUE("Value"), UTILIZATION("Utilization");

    private final String kubernetesName;

    MetricTargetType(String kubernetesName) {
        this.kubernetesName = kubernetesName;
    }

    public String kubernetesName() {
        return kubernetesName;
    }

    /** Parses the trigger's {@code metricType}; blank means KEDA's default, AverageValue. */
    public static MetricTargetType parse(String value) throws TriggerParseException {
        if (value == null || value.isBlank()) {
            return AVERAGE_VALUE;
        }
        for (MetricTargetType type : values()) {
            if (type.kubernetesName.equals(value)) {
                return type;
            }
        }
        throw new TriggerParseException("metricType must be one of AverageValue, Value, Utilization; got \"" + value + "\"");
    }
}
