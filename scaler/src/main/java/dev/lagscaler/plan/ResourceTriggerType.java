package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;

/**
 * The {@code cpu} and {@code memory} triggers: one HPA Resource metric each, as KEDA builds it, or with
 * {@code containerName} a ContainerResource metric of that container. {@code value} must be set, and be a whole
 * percentage for the default Utilization target.
 */
final class ResourceTriggerType implements TriggerType {
    private final String resource;

    ResourceTriggerType(String resource) {
        this.resource = resource;
    }

    @Override
    public String name() {
        return resource;
    }

    @Override
    public ResolvedTrigger resolve(int index, ScaledObjectSpec.TriggerSpec trigger, Context context) {
        String type = trigger.metricType() == null ? "Utilization" : trigger.metricType();
        String value = trigger.metadata().getOrDefault("value", "");
        if (!type.equals("Utilization") && !type.equals("AverageValue")) {
            return new ResolvedTrigger.Invalid(index, resource, "metricType must be Utilization or AverageValue for "
                    + resource + ", got \"" + type + "\"");
        }
        if (value.isEmpty()) {
            return new ResolvedTrigger.Invalid(index, resource, "metadata.value must be set");
        }
        if (type.equals("Utilization") && !value.matches("\\d{1,9}")) {
            return new ResolvedTrigger.Invalid(index, resource, "metadata.value must be a whole number of percent for"
                    + " Utilization, got \"" + value + "\"");
        }
        String container = trigger.metadata().get("containerName");
        return new ResolvedTrigger.Resource(index, resource, HpaBuilder.Metric.resource(resource, type, value,
                container == null || container.isBlank() ? null : container.trim()));
    }
}
