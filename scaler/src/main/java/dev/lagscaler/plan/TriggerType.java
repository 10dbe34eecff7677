package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.TriggerParseException;
import java.util.Map;

/**
 * One trigger type (kafka, cpu, memory): reads a trigger's metadata into a {@link ResolvedTrigger}. The operator and
 * {@code lagscaler evaluate} both go through {@link Triggers}, so they validate the same way.
 */
public interface TriggerType {
    /** The {@code type} value in spec.triggers. */
    String name();

    ResolvedTrigger resolve(int index, ScaledObjectSpec.TriggerSpec trigger, Context context);

    /**
     * What a trigger may need from outside its metadata. Resolved lazily: the operator reads Secrets and the target's
     * environment only for a trigger that asks; {@code evaluate} answers from its input document.
     */
    interface Context {
        Map<String, String> authParams(ScaledObjectSpec.TriggerSpec trigger) throws TriggerParseException;

        Map<String, String> environment() throws TriggerParseException;

        /** For evaluation with no cluster: the given auth params, the given environment. */
        static Context of(Map<String, String> authParams, Map<String, String> environment) {
            return new Context() {
                @Override
                public Map<String, String> authParams(ScaledObjectSpec.TriggerSpec trigger) {
                    return authParams;
                }

                @Override
                public Map<String, String> environment() {
                    return environment;
                }
            };
        }
    }
}
