package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The trigger types lagscaler implements, by name; every other type resolves as unsupported. */
public final class Triggers {
    private static final Map<String, TriggerType> TYPES = Map.of(
            "kafka", new KafkaTriggerType(),
            "cpu", new ResourceTriggerType("cpu"),
            "memory", new ResourceTriggerType("memory"));

    private Triggers() {
    }

    /** Every trigger of the ScaledObject, in order. */
    public static List<ResolvedTrigger> resolveAll(ScaledObjectSpec spec, TriggerType.Context context) {
        List<ResolvedTrigger> resolved = new ArrayList<>();
        for (int i = 0; i < spec.triggers().size(); i++) {
            resolved.add(resolve(i, spec.triggers().get(i), context));
        }
        return resolved;
    }

    public static ResolvedTrigger resolve(int index, ScaledObjectSpec.TriggerSpec trigger, TriggerType.Context context) {
        TriggerType type = TYPES.get(trigger.type());
        return type == null ? new ResolvedTrigger.Unsupported(index, trigger.type()) : type.resolve(index, trigger, context);
    }
}
