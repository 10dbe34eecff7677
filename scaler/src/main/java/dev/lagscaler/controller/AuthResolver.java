package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.TriggerParseException;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Secret;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves a trigger's authenticationRef into auth params, and the target container's environment for
 * {@code ...FromEnv} parameters. Secrets are read one at a time by name, never listed; their values never appear
 * in an error message.
 */
final class AuthResolver {
    private static final List<String> UNSUPPORTED_SOURCES = List.of("podIdentity", "hashiCorpVault", "azureKeyVault",
            "gcpSecretManager", "awsSecretManager", "configMapTargetRef", "boundServiceAccountToken");

    private final CoreV1Api core;
    private final Function<String, JsonNode> triggerAuthentications;
    private final Function<String, JsonNode> clusterTriggerAuthentications;
    private final String clusterObjectNamespace;

    AuthResolver(CoreV1Api core, Function<String, JsonNode> triggerAuthentications,
                 Function<String, JsonNode> clusterTriggerAuthentications, String clusterObjectNamespace) {
        this.core = core;
        this.triggerAuthentications = triggerAuthentications;
        this.clusterTriggerAuthentications = clusterTriggerAuthentications;
        this.clusterObjectNamespace = clusterObjectNamespace;
    }

    /** The auth params of a trigger (empty without authenticationRef). */
    Map<String, String> authParams(String namespace, ScaledObjectSpec.TriggerSpec trigger, Map<String, String> env)
            throws TriggerParseException {
        Map<String, String> params = new HashMap<>();
        if (trigger.authName() == null) {
            return params;
        }
        boolean cluster = "ClusterTriggerAuthentication".equals(trigger.authKind());
        JsonNode auth = cluster ? clusterTriggerAuthentications.apply(trigger.authName())
                : triggerAuthentications.apply(namespace + "/" + trigger.authName());
        String what = trigger.authKind() + " " + trigger.authName();
        if (auth == null) {
            throw new TriggerParseException(what + " not found");
        }
        JsonNode spec = auth.path("spec");
        for (String source : UNSUPPORTED_SOURCES) {
            if (spec.has(source) && !spec.get(source).isNull()) {
                throw new TriggerParseException(what + " uses " + source + ", which lagscaler does not support yet;"
                        + " use secretTargetRef or env");
            }
        }
        String secretNamespace = cluster ? clusterObjectNamespace : namespace;
        for (JsonNode ref : spec.path("secretTargetRef")) {
            String parameter = ref.path("parameter").asText();
            params.put(parameter, secretValue(secretNamespace, ref.path("name").asText(), ref.path("key").asText(), what));
        }
        for (JsonNode ref : spec.path("env")) {
            String name = ref.path("name").asText();
            String value = env.get(name);
            if (value == null) {
                throw new TriggerParseException(what + ": environment variable " + name
                        + " is not set on the target's container");
            }
            params.put(ref.path("parameter").asText(), value);
        }
        return params;
    }

    /**
     * The environment of the target's container (envSourceContainerName, else the first), as KEDA resolves it,
     * from the target's pod template (null for kinds without one).
     */
    Map<String, String> containerEnv(String namespace, JsonNode podTemplate, String containerName) throws TriggerParseException {
        Map<String, String> env = new HashMap<>();
        if (podTemplate == null) {
            return env;
        }
        JsonNode containers = podTemplate.path("spec").path("containers");
        JsonNode container = null;
        for (JsonNode c : containers) {
            if (container == null || c.path("name").asText().equals(containerName)) {
                container = c;
                if (containerName == null || c.path("name").asText().equals(containerName)) {
                    break;
                }
            }
        }
        if (container == null) {
            return env;
        }
        for (JsonNode var : container.path("env")) {
            String name = var.path("name").asText();
            if (var.has("value")) {
                env.put(name, var.path("value").asText());
            } else if (var.path("valueFrom").has("secretKeyRef")) {
                JsonNode ref = var.path("valueFrom").path("secretKeyRef");
                env.put(name, secretValue(namespace, ref.path("name").asText(), ref.path("key").asText(), "env " + name));
            } else if (var.path("valueFrom").has("configMapKeyRef")) {
                JsonNode ref = var.path("valueFrom").path("configMapKeyRef");
                try {
                    V1ConfigMap map = core.readNamespacedConfigMap(ref.path("name").asText(), namespace).execute();
                    String value = map.getData() == null ? null : map.getData().get(ref.path("key").asText());
                    if (value != null) {
                        env.put(name, value);
                    }
                } catch (ApiException e) {
                    throw new TriggerParseException("env " + name + ": ConfigMap " + ref.path("name").asText()
                            + " could not be read (HTTP " + e.getCode() + ")");
                }
            }
        }
        return env;
    }

    private String secretValue(String namespace, String name, String key, String what) throws TriggerParseException {
        try {
            V1Secret secret = core.readNamespacedSecret(name, namespace).execute();
            byte[] value = secret.getData() == null ? null : secret.getData().get(key);
            if (value == null) {
                throw new TriggerParseException(what + ": Secret " + namespace + "/" + name + " has no key " + key);
            }
            return new String(value, StandardCharsets.UTF_8);
        } catch (ApiException e) {
            throw new TriggerParseException(what + ": Secret " + namespace + "/" + name + " could not be read (HTTP "
                    + e.getCode() + ")");
        }
    }
}
