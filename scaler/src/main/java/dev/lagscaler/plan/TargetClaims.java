package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Who else claims a ScaledObject's target or its HPA's name, and whether that stops the object. KEDA's admission
 * webhook refuses these at apply; this is the same rule for objects admitted while no webhook answered (or made
 * before it existed), checked by the controller before it writes anything. Pure: the caller passes what its caches
 * hold.
 */
public final class TargetClaims {
    private TargetClaims() {
    }

    /** Another ScaledObject on the same target (same namespace, kind and name). */
    public record OtherScaledObject(String name, Instant createdAt) {
    }

    /**
     * An HPA that matters to the object: one of its name, or one scaling its target. {@code ownerUid} is the uid of
     * the ScaledObject in its ownerReferences (null when none); {@code ownerName} its name.
     */
    public record SeenHpa(String name, String uid, String ownerUid, String ownerName, String targetKind,
                          String targetName) {
        boolean scales(ScaledObjectSpec.ScaleTarget target) {
            return target.kind().equals(targetKind) && target.name().equals(targetName);
        }
    }

    /**
     * Why this object must not act, or empty when nothing stops it: an earlier ScaledObject on its target (the
     * earliest made keeps it; the name breaks a tie), an HPA of its HPA's name that is another's (unless ownership
     * transfer is asked), or any HPA of another's scaling its target.
     */
    public static Optional<String> conflict(ScaledObjectSpec spec, String uid, List<OtherScaledObject> others,
                                            List<SeenHpa> hpas) {
        Optional<OtherScaledObject> first = others.stream().filter(o -> !o.name().equals(spec.name()))
                .filter(o -> o.createdAt().isBefore(spec.createdAt())
                        || (o.createdAt().equals(spec.createdAt()) && o.name().compareTo(spec.name()) < 0))
                .min(Comparator.comparing(OtherScaledObject::createdAt).thenComparing(OtherScaledObject::name));
        if (first.isPresent()) {
            return Optional.of(managedBy(spec, first.get().name()));
        }
        return hpaConflict(spec, uid, hpas);
    }

    /**
     * The same at admission (KEDA's webhook): any other ScaledObject on the target refuses the one applied, whenever
     * it was made.
     */
    public static Optional<String> conflictAtAdmission(ScaledObjectSpec spec, String uid, List<OtherScaledObject> others,
                                                       List<SeenHpa> hpas) {
        Optional<OtherScaledObject> other = others.stream().filter(o -> !o.name().equals(spec.name()))
                .min(Comparator.comparing(OtherScaledObject::name));
        if (other.isPresent()) {
            return Optional.of(managedBy(spec, other.get().name()));
        }
        return hpaConflict(spec, uid, hpas);
    }

    private static String managedBy(ScaledObjectSpec spec, String other) {
        return "the workload '" + spec.target().name() + "' of type '" + workloadType(spec.target())
                + "' is already managed by the ScaledObject '" + other + "'";
    }

    private static Optional<String> hpaConflict(ScaledObjectSpec spec, String uid, List<SeenHpa> hpas) {
        for (SeenHpa hpa : hpas) {
            if (uid.equals(hpa.ownerUid())) {
                continue; // ours: the current one, or one under a former name that the plan deletes
            }
            if (hpa.name().equals(spec.hpaName())) {
                if (spec.transfersHpaOwnership()) {
                    continue; // taken over by the plan's update
                }
                return Optional.of(hpa.ownerName() != null
                        ? "the HPA '" + hpa.name() + "' is already managed by the ScaledObject '" + hpa.ownerName() + "'"
                        : "the HPA '" + hpa.name() + "' already exists and is not owned by this ScaledObject; set the"
                        + " annotation scaledobject.keda.sh/transfer-hpa-ownership: \"true\" to take it over");
            }
            if (hpa.scales(spec.target())) {
                return Optional.of("the workload '" + spec.target().name() + "' of type '" + workloadType(spec.target())
                        + "' is already managed by the hpa '" + hpa.name() + "'");
            }
        }
        return Optional.empty();
    }

    /** HPAs this object owns under another name than its HPA's now (a renamed horizontalPodAutoscalerConfig.name). */
    public static List<SeenHpa> formerHpas(ScaledObjectSpec spec, String uid, List<SeenHpa> owned) {
        return owned.stream().filter(h -> uid.equals(h.ownerUid()) && !h.name().equals(spec.hpaName())).toList();
    }

    /** KEDA's "group/version.Kind" form, e.g. "apps/v1.Deployment". */
    static String workloadType(ScaledObjectSpec.ScaleTarget target) {
        return target.apiVersion() + "." + target.kind();
    }
}
