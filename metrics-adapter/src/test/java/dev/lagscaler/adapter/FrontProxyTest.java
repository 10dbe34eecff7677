package dev.lagscaler.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kubernetes.client.openapi.ApiException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The front proxy's settings as kube-apiserver publishes them in kube-system/extension-apiserver-authentication. */
class FrontProxyTest {
    @Test
    void headerNamesComeFromTheConfigMapAndDefaultToTheApiserversOwn() throws Exception {
        KubernetesAccess.FrontProxy custom = KubernetesAccess.FrontProxy.of(Map.of(
                "requestheader-client-ca-file", "CA",
                "requestheader-allowed-names", "[\"front-proxy-client\",\"\"]",
                "requestheader-username-headers", "[\"X-Proxy-User\"]",
                "requestheader-group-headers", "[\"X-Proxy-Group\",\"X-Proxy-Team\"]",
                "requestheader-extra-headers-prefix", "[\"X-Proxy-Extra-\"]"));
        assertEquals(List.of("front-proxy-client"), custom.allowedNames());
        assertEquals(List.of("X-Proxy-User"), custom.usernameHeaders());
        assertEquals(List.of("X-Proxy-Group", "X-Proxy-Team"), custom.groupHeaders());
        assertEquals(List.of("X-Proxy-Extra-"), custom.extraHeaderPrefixes());

        KubernetesAccess.FrontProxy defaults = KubernetesAccess.FrontProxy.of(Map.of("requestheader-client-ca-file", "CA"));
        assertEquals(List.of("X-Remote-User"), defaults.usernameHeaders());
        assertEquals(List.of("X-Remote-Group"), defaults.groupHeaders());
        assertEquals(List.of("X-Remote-Extra-"), defaults.extraHeaderPrefixes());

        assertThrows(ApiException.class, () -> KubernetesAccess.FrontProxy.of(Map.of()), "no aggregation layer");
        assertThrows(ApiException.class, () -> KubernetesAccess.FrontProxy.of(Map.of("requestheader-client-ca-file", "CA",
                "requestheader-group-headers", "X-Remote-Group")), "not a JSON array");
    }
}
