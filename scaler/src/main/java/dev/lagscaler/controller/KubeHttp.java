package dev.lagscaler.controller;

import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.openapi.ApiException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import okhttp3.Call;
import okhttp3.Response;

/**
 * Raw JSON calls through client-java's authenticated HTTP client, only for what it has no typed API for: the /scale
 * subresource of kinds it does not know (custom resources with a scale subresource).
 */
final class KubeHttp {
    static final String JSON = "application/json";

    private final ApiClient client;

    KubeHttp(ApiClient client) {
        this.client = client;
    }

    String get(String path) throws ApiException {
        return call("GET", path, null, null);
    }

    String put(String path, String json) throws ApiException {
        return call("PUT", path, JSON, json);
    }

    private String call(String method, String path, String contentType, String body) throws ApiException {
        Map<String, String> headers = new HashMap<>();
        headers.put("Accept", JSON);
        if (contentType != null) {
            headers.put("Content-Type", contentType);
        }
        Call call = client.buildCall(client.getBasePath(), path, method, new ArrayList<>(), new ArrayList<>(),
                body == null ? null : body.getBytes(java.nio.charset.StandardCharsets.UTF_8), headers, new HashMap<>(),
                new HashMap<>(), new String[] {"BearerToken"}, null);
        try (Response response = call.execute()) {
            String text = response.body() == null ? "" : response.body().string();
            if (!response.isSuccessful()) {
                throw new ApiException(response.code(), method + " " + path + ": " + response.code(), response.headers().toMultimap(), text);
            }
            return text;
        } catch (IOException e) {
            throw new ApiException(e);
        }
    }
}
