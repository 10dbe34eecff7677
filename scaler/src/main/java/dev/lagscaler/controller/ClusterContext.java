package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.plan.TriggerType;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.TriggerParseException;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Auth params and the environment of a pod template's container, read from the cluster only when a trigger asks, once
 * per reconcile: the ScaledObject's target's template, or a ScaledJob's jobTargetRef template.
 */
public final class ClusterContext implements TriggerType.Context {
    private final AuthResolver auth;
    private final String namespace;
    private final Supplier<JsonNode> podTemplate;
    private final String containerName;
    private Map<String, String> environment;

    public ClusterContext(AuthResolver auth, String namespace, Supplier<JsonNode> podTemplate, String containerName) {
        this.auth = auth;
        this.namespace = namespace;
        this.podTemplate = podTemplate;
        this.containerName = containerName;
    }

    @Override
    public Map<String, String> authParams(ScaledObjectSpec.TriggerSpec trigger) throws TriggerParseException {
        return auth.authParams(namespace, trigger, environment());
    }

    @Override
    public Map<String, String> environment() throws TriggerParseException {
        if (environment == null) {
            environment = auth.containerEnv(namespace, podTemplate.get(), containerName);
        }
        return environment;
    }
}
