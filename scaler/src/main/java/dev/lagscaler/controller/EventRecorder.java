package dev.lagscaler.controller;

import io.kubernetes.client.openapi.ApiException;
import io.kubernetes.client.openapi.apis.CoreV1Api;
import io.kubernetes.client.openapi.models.CoreV1Event;
import io.kubernetes.client.openapi.models.V1EventSource;
import io.kubernetes.client.openapi.models.V1ObjectMeta;
import io.kubernetes.client.openapi.models.V1ObjectReference;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes Kubernetes Events about ScaledObjects (core/v1, as kubectl describe shows them). */
final class EventRecorder {
    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
    private final CoreV1Api core;

    EventRecorder(CoreV1Api core) {
        this.core = core;
    }

    void record(String namespace, String name, String uid, String type, String reason, String message) {
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        CoreV1Event event = new CoreV1Event()
                .metadata(new V1ObjectMeta().namespace(namespace)
                        .name(name + "." + UUID.randomUUID().toString().substring(0, 8)))
                .involvedObject(new V1ObjectReference().apiVersion("keda.sh/v1alpha1").kind("ScaledObject")
                        .namespace(namespace).name(name).uid(uid))
                .type(type).reason(reason).message(message)
                .source(new V1EventSource().component("lagscaler"))
                .firstTimestamp(now).lastTimestamp(now).count(1);
        try {
            core.createNamespacedEvent(namespace, event).execute();
        } catch (ApiException e) {
            LOG.warn("event=event_write_failed scaledobject={}/{} reason={} code={}", namespace, name, reason, e.getCode());
        }
    }
}
