package dev.lagscaler.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lagscaler.scaling.ScaledObjectSpec;
import io.kubernetes.client.openapi.ApiException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads and writes replicas through the /scale subresource of any scale target: apps/v1 Deployments and
 * StatefulSets, and any other kind whose API serves /scale (found through discovery).
 */
final class ScaleClient {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final KubeHttp http;
    private final Map<String, String> plurals = new ConcurrentHashMap<>();

    ScaleClient(KubeHttp http) {
        this.http = http;
    }

    /** The target's spec.replicas as its /scale reports it. */
    int replicas(String namespace, ScaledObjectSpec.ScaleTarget target) throws ApiException {
        try {
            JsonNode scale = JSON.readTree(http.get(scalePath(namespace, target)));
            return scale.path("spec").path("replicas").asInt(0);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException("unreadable /scale of " + target.kind() + "/" + target.name());
        }
    }

    void setReplicas(String namespace, ScaledObjectSpec.ScaleTarget target, int replicas) throws ApiException {
        http.patch(scalePath(namespace, target), "{\"spec\":{\"replicas\":" + replicas + "}}");
    }

    String scalePath(String namespace, ScaledObjectSpec.ScaleTarget target) throws ApiException {
        String apiVersion = target.apiVersion();
        String prefix = apiVersion.contains("/") ? "/apis/" + apiVersion : "/api/" + apiVersion;
        return prefix + "/namespaces/" + namespace + "/" + plural(prefix, target.kind()) + "/" + target.name() + "/scale";
    }

    private String plural(String prefix, String kind) throws ApiException {
        if (prefix.equals("/apis/apps/v1") && (kind.equals("Deployment") || kind.equals("StatefulSet"))) {
            return kind.toLowerCase(Locale.ROOT) + "s";
        }
        String key = prefix + "|" + kind;
        String known = plurals.get(key);
        if (known != null) {
            return known;
        }
        try {
            for (JsonNode resource : JSON.readTree(http.get(prefix)).path("resources")) {
                if (resource.path("kind").asText().equals(kind) && !resource.path("name").asText().contains("/")) {
                    plurals.put(key, resource.path("name").asText());
                    return resource.path("name").asText();
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ApiException("unreadable discovery document " + prefix);
        }
        throw new ApiException(404, "kind " + kind + " is not served by " + prefix);
    }
}
