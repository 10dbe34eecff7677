package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.KafkaTriggerParser;
import dev.lagscaler.trigger.KafkaTriggerSettings;
import dev.lagscaler.trigger.TriggerInput;
import dev.lagscaler.trigger.TriggerParseException;
import java.util.Map;

/** The {@code kafka} trigger: KEDA's parameters parsed by {@link KafkaTriggerParser}, auth and env resolved first. */
final class KafkaTriggerType implements TriggerType {
    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public ResolvedTrigger resolve(int index, ScaledObjectSpec.TriggerSpec trigger, Context context) {
        try {
            Map<String, String> env = needsEnvironment(trigger) ? context.environment() : Map.of();
            return new ResolvedTrigger.Kafka(index, KafkaTriggerParser.parse(new TriggerInput(trigger.metadata(),
                    context.authParams(trigger), env, trigger.metricType())));
        } catch (TriggerParseException e) {
            String topic = trigger.metadata().getOrDefault("topic", "").trim();
            String group = trigger.metadata().getOrDefault("consumerGroup", "").trim();
            return new ResolvedTrigger.Invalid(index, name(), e.getMessage(), topic.isEmpty() && group.isEmpty() ? null
                    : KafkaTriggerSettings.metricName(index, topic, group));
        }
    }

    /** {@code ...FromEnv} parameters and TriggerAuthentication {@code env} entries read the target's container. */
    private static boolean needsEnvironment(ScaledObjectSpec.TriggerSpec trigger) {
        return trigger.authName() != null || trigger.metadata().keySet().stream().anyMatch(k -> k.endsWith("FromEnv"));
    }
}
