package dev.lagscaler;

/** Annotation, label, condition and finalizer names that users and KEDA tooling rely on: one place for each. */
public final class KedaKeys {
    public static final String GROUP = "keda.sh";
    public static final String VERSION = "v1alpha1";
    public static final String SCALED_OBJECTS = "scaledobjects";
    public static final String SCALED_JOBS = "scaledjobs";
    public static final String TRIGGER_AUTHENTICATIONS = "triggerauthentications";
    public static final String CLUSTER_TRIGGER_AUTHENTICATIONS = "clustertriggerauthentications";

    public static final String PAUSED = "autoscaling.keda.sh/paused";
    public static final String PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas";
    public static final String PAUSED_SCALE_IN = "autoscaling.keda.sh/paused-scale-in";
    public static final String PAUSED_SCALE_OUT = "autoscaling.keda.sh/paused-scale-out";
    public static final String FORCE_ACTIVATION = "autoscaling.keda.sh/force-activation";
    /** Lets a ScaledObject take over an existing HPA of its {@code horizontalPodAutoscalerConfig.name}. */
    public static final String TRANSFER_HPA_OWNERSHIP = "scaledobject.keda.sh/transfer-hpa-ownership";
    /** Labels of the ScaledObject (comma-separated) its HPA does not copy. */
    public static final String HPA_EXCLUDED_LABELS = "scaledobject.keda.sh/hpa-excluded-labels";
    /** Ours: the polling interval while the target is at zero, e.g. "500ms" or "2s". */
    public static final String FAST_ACTIVATION_INTERVAL = "lagscaler.dev/activation-polling-interval";

    /** The label selecting a ScaledObject's metrics in the external metrics API. */
    public static final String SCALED_OBJECT_LABEL = "scaledobject.keda.sh/name";
    public static final String HPA_PREFIX = "keda-hpa-";
    public static final String FINALIZER = "finalizer.keda.sh";

    private KedaKeys() {
    }
}
