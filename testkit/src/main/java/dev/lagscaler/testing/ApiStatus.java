package dev.lagscaler.testing;

import okhttp3.MediaType;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;

/**
 * An apiserver failure answered in front of the real apiserver, on a client's own HTTP stack (an interceptor), for
 * fault tests that need one kind of call to fail while every other reaches the real control plane.
 */
public final class ApiStatus {
    private ApiStatus() {
    }

    /** A Kubernetes Status response with this code and message, as the apiserver sends one. */
    public static Response failure(Request request, int code, String reason, String message) {
        return new Response.Builder().request(request).protocol(Protocol.HTTP_1_1).code(code).message(reason)
                .body(ResponseBody.create("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":"
                        + code + ",\"message\":\"" + message + "\"}", MediaType.get("application/json"))).build();
    }
}
