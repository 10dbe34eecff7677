package dev.lagscaler.controller;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.kubernetes.client.openapi.ApiException;

/** What a failed apiserver call says, read from the Kubernetes Status in its body. */
final class ApiErrors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ApiErrors() {
    }

    /** The Status message, else the exception's own. */
    static String message(ApiException e) {
        JsonNode status = status(e);
        if (status.hasNonNull("message")) {
            return status.get("message").asText();
        }
        return e.getMessage() == null ? "HTTP " + e.getCode() : e.getMessage();
    }

    /**
     * Whether a failed write lost a race with another writer: 409 (but AlreadyExists, see {@link #isAlreadyExists}), or the bare 422 a JSON patch gets when its test of
     * the resourceVersion read fails (the apiserver drops json-patch's "test failed" and sends a Status with no
     * causes, where a validation failure lists the fields at fault). Any other 422 is invalid input and is retried on
     * the slow path, not every 200 ms.
     */
    static boolean isConflict(ApiException e) {
        if (e.getCode() == 409) {
            return !isAlreadyExists(e);
        }
        return e.getCode() == 422 && status(e).path("details").path("causes").isEmpty();
    }

    /** A create refused because the name is taken: something to read and decide on, not a race to retry. */
    static boolean isAlreadyExists(ApiException e) {
        return e.getCode() == 409 && "AlreadyExists".equals(status(e).path("reason").asText());
    }

    /**
     * Whether a failed call says nothing about what was asked for, only that the apiserver could not answer now: no
     * answer at all (code 0: a timeout, a reset), 408, 429 or a 5xx. The same call may well succeed in a moment.
     */
    static boolean isTransient(ApiException e) {
        int code = e.getCode();
        return code == 0 || code == 408 || code == 429 || code >= 500;
    }

    /** The body as JSON, or a missing node when it is none. */
    private static JsonNode status(ApiException e) {
        try {
            JsonNode status = JSON.readTree(e.getResponseBody() == null ? "" : e.getResponseBody());
            return status == null ? MissingNode.getInstance() : status;
        } catch (JsonProcessingException notJson) {
            return MissingNode.getInstance();
        }
    }
}
