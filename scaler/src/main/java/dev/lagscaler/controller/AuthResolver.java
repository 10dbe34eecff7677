package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.scaling.ScaledObjectSpec;
import dev.lagscaler.trigger.TriggerParseException;
import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Secret;
import dev.lagscaler.trigger.AuthParams;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Resolves a trigger's authenticationRef into auth params, and the target container's environment for
 * {@code ...FromEnv} parameters. Secrets are read one at a time by name, never listed; their values never appear
 * in an error message.
 */
public final class AuthResolver {
    private static final List<String> UNSUPPORTED_SOURCES = List.of("hashiCorpVault", "azureKeyVault",
            "gcpSecretManager", "awsSecretManager", "boundServiceAccountToken", "filePath");
    /** Parameters whose value is binary (a keytab): passed on as the Base64 of the exact bytes. */
    private static final Set<String> BINARY_PARAMETERS = Set.of("keytab");

    private final CoreV1Api core;
    private final Function<String, JsonNode> triggerAuthentications;
    private final Function<String, JsonNode> clusterTriggerAuthentications;
    private final String clusterObjectNamespace;

    public AuthResolver(CoreV1Api core, Function<String, JsonNode> triggerAuthentications,
                 Function<String, JsonNode> clusterTriggerAuthentications, String clusterObjectNamespace) {
        this.core = core;
        this.triggerAuthentications = triggerAuthentications;
        this.clusterTriggerAuthentications = clusterTriggerAuthentications;
        this.clusterObjectNamespace = clusterObjectNamespace;
    }

    /** The auth params of a trigger (empty without authenticationRef). */
    public Map<String, String> authParams(String namespace, ScaledObjectSpec.TriggerSpec trigger, Map<String, String> env)
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
                        + " use secretTargetRef, configMapTargetRef, env or podIdentity");
            }
        }
        JsonNode podIdentity = spec.path("podIdentity");
        if (!podIdentity.isMissingNode() && !podIdentity.isNull()) {
            String provider = podIdentity.path("provider").asText("none");
            if (provider.equals("aws")) {
                params.put(AuthParams.POD_IDENTITY_PROVIDER, provider);
                if (!podIdentity.path("roleArn").asText("").isBlank()) {
                    params.put("awsRoleArn", podIdentity.path("roleArn").asText());
                }
            } else if (!provider.equals("none")) {
                throw new TriggerParseException(what + " uses podIdentity provider " + provider
                        + ", which lagscaler does not support; use aws or none");
            }
        }
        String objectNamespace = cluster ? clusterObjectNamespace : namespace;
        // KEDA's order: env first, then configMapTargetRef, then secretTargetRef (a later source wins a parameter).
        for (JsonNode ref : spec.path("env")) {
            String name = ref.path("name").asText();
            String value = env.get(name);
            if (value == null) {
                throw new TriggerParseException(what + ": environment variable " + name
                        + " is not set on the target's container");
            }
            putParameter(params, ref.path("parameter").asText(), value.getBytes(StandardCharsets.UTF_8));
        }
        for (JsonNode ref : spec.path("configMapTargetRef")) {
            putParameter(params, ref.path("parameter").asText(),
                    configMapValue(objectNamespace, ref.path("name").asText(), ref.path("key").asText(), what));
        }
        for (JsonNode ref : spec.path("secretTargetRef")) {
            putParameter(params, ref.path("parameter").asText(),
                    secretValue(objectNamespace, ref.path("name").asText(), ref.path("key").asText(), what));
        }
        return params;
    }

    /**
     * The environment of the target's container (envSourceContainerName, else the first), as KEDA resolves it,
     * from the target's pod template (null for kinds without one).
     */
    public Map<String, String> containerEnv(String namespace, JsonNode podTemplate, String containerName) throws TriggerParseException {
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
        // envFrom first: an env entry of the same name overrides it, as in the kubelet.
        for (JsonNode from : container.path("envFrom")) {
            String prefix = from.path("prefix").asText("");
            if (from.has("configMapRef")) {
                JsonNode ref = from.path("configMapRef");
                Map<String, String> data = configMapData(namespace, ref.path("name").asText(),
                        ref.path("optional").asBoolean(false), "envFrom");
                data.forEach((k, v) -> env.put(prefix + k, v));
            } else if (from.has("secretRef")) {
                JsonNode ref = from.path("secretRef");
                Map<String, byte[]> data = secretData(namespace, ref.path("name").asText(),
                        ref.path("optional").asBoolean(false), "envFrom");
                data.forEach((k, v) -> env.put(prefix + k, new String(v, StandardCharsets.UTF_8)));
            }
        }
        for (JsonNode var : container.path("env")) {
            String name = var.path("name").asText();
            if (var.has("value")) {
                env.put(name, expandReferences(var.path("value").asText(), env));
            } else if (var.path("valueFrom").has("secretKeyRef")) {
                // optional: true, as the kubelet reads it: a missing Secret or key leaves the variable unset.
                JsonNode ref = var.path("valueFrom").path("secretKeyRef");
                boolean optional = ref.path("optional").asBoolean(false);
                byte[] value = secretData(namespace, ref.path("name").asText(), optional, "env " + name)
                        .get(ref.path("key").asText());
                if (value != null) {
                    env.put(name, new String(value, StandardCharsets.UTF_8));
                } else if (!optional) {
                    throw new TriggerParseException("env " + name + ": Secret " + namespace + "/"
                            + ref.path("name").asText() + " has no key " + ref.path("key").asText());
                }
            } else if (var.path("valueFrom").has("configMapKeyRef")) {
                JsonNode ref = var.path("valueFrom").path("configMapKeyRef");
                String value = configMapData(namespace, ref.path("name").asText(),
                        ref.path("optional").asBoolean(false), "env " + name).get(ref.path("key").asText());
                if (value != null) {
                    env.put(name, value);
                }
            }
        }
        return env;
    }

    /**
     * The kubelet's {@code $(NAME)} references to variables defined before, as KEDA expands them: {@code $$} is a
     * literal {@code $}, an unknown or unclosed reference stays as written, and only where three more characters
     * follow the {@code $} (KEDA's bound, kept so the same value resolves the same).
     */
    static String expandReferences(String value, Map<String, String> env) {
        StringBuilder out = new StringBuilder(value.length());
        int checkpoint = 0;
        for (int cursor = 0; cursor < value.length(); cursor++) {
            if (value.charAt(cursor) != '$' || cursor + 3 >= value.length()) {
                continue;
            }
            out.append(value, checkpoint, cursor);
            char next = value.charAt(cursor + 1);
            String content;
            int length = 1;
            if (next == '$') {
                content = "$";
            } else if (next == '(') {
                int close = value.indexOf(')', cursor + 2);
                if (close < 0) {
                    content = "$(";
                } else {
                    String key = value.substring(cursor + 2, close);
                    content = env.containsKey(key) ? env.get(key) : "$(" + key + ")";
                    length = close - cursor;
                }
            } else {
                content = "$" + next;
            }
            out.append(content);
            cursor += length;
            checkpoint = cursor + 1;
        }
        return out.append(value.substring(checkpoint)).toString();
    }

    private static void putParameter(Map<String, String> params, String parameter, byte[] value) {
        params.put(parameter, BINARY_PARAMETERS.contains(parameter) ? Base64.getEncoder().encodeToString(value)
                : new String(value, StandardCharsets.UTF_8));
    }

    private byte[] secretValue(String namespace, String name, String key, String what) throws TriggerParseException {
        byte[] value = secretData(namespace, name, false, what).get(key);
        if (value == null) {
            throw new TriggerParseException(what + ": Secret " + namespace + "/" + name + " has no key " + key);
        }
        return value;
    }

    private byte[] configMapValue(String namespace, String name, String key, String what) throws TriggerParseException {
        V1ConfigMap map = read("ConfigMap", namespace, name, false, what,
                () -> core.readNamespacedConfigMap(name, namespace).execute());
        if (map.getData() != null && map.getData().containsKey(key)) {
            return map.getData().get(key).getBytes(StandardCharsets.UTF_8);
        }
        if (map.getBinaryData() != null && map.getBinaryData().containsKey(key)) {
            return map.getBinaryData().get(key);
        }
        throw new TriggerParseException(what + ": ConfigMap " + namespace + "/" + name + " has no key " + key);
    }

    /** A Secret's data; empty when it is optional and missing. Values never appear in an error. */
    private Map<String, byte[]> secretData(String namespace, String name, boolean optional, String what)
            throws TriggerParseException {
        V1Secret secret = read("Secret", namespace, name, optional, what,
                () -> core.readNamespacedSecret(name, namespace).execute());
        return secret == null || secret.getData() == null ? Map.of() : secret.getData();
    }

    private Map<String, String> configMapData(String namespace, String name, boolean optional, String what)
            throws TriggerParseException {
        V1ConfigMap map = read("ConfigMap", namespace, name, optional, what,
                () -> core.readNamespacedConfigMap(name, namespace).execute());
        return map == null || map.getData() == null ? Map.of() : map.getData();
    }

    private interface Read<T> {
        T get() throws ApiException;
    }

    /**
     * The apiserver could not answer a read now (see {@link ApiErrors#isTransient}): nothing is wrong with the
     * object, so its pass is retried with backoff and what it already has (registrations, lag history) is kept.
     */
    static final class TransientReadException extends RuntimeException {
        TransientReadException(String message, ApiException cause) {
            super(message, cause);
        }
    }

    /**
     * One object read by name; null when optional and absent; a {@link TransientReadException} when the apiserver
     * could not answer now; otherwise an error naming it (and no value).
     */
    private static <T> T read(String kind, String namespace, String name, boolean optional, String what, Read<T> call)
            throws TriggerParseException {
        try {
            return call.get();
        } catch (ApiException e) {
            if (optional && e.getCode() == 404) {
                return null;
            }
            if (ApiErrors.isTransient(e)) {
                throw new TransientReadException(what + ": " + kind + " " + namespace + "/" + name
                        + " could not be read now (HTTP " + e.getCode() + ")", e);
            }
            throw new TriggerParseException(what + ": " + kind + " " + namespace + "/" + name + " could not be read (HTTP "
                    + e.getCode() + ")");
        }
    }
}
