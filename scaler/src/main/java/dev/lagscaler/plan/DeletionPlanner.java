package dev.lagscaler.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lagscaler.KedaKeys;
import dev.lagscaler.scaling.ScaledObjectSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * What finalizing a deleted ScaledObject writes, decided from what was read (pure, as {@link ReconcilePlanner}): the
 * HPAs it owns are deleted (each conditional on its uid; a same-named HPA of someone else's stays), its target goes
 * back to {@code status.originalReplicaCount} when {@code advanced.restoreToOriginalReplicaCount} asks for it, and
 * our finalizer comes off with KEDA's ScaledObjectDeleted Event. An object that never parsed owns nothing we made.
 */
public final class DeletionPlanner {
    private DeletionPlanner() {
    }

    /**
     * @param hpaDeletes          the owned HPAs to delete
     * @param restoreReplicas     the replicas to write to the target, or null to leave it
     * @param remainingFinalizers the finalizers to keep, or null when ours is not among them (nothing to write)
     * @param event               the Event to record once the finalizer is off, or null
     */
    public record DeletionPlan(List<Plan.HpaChange.Delete> hpaDeletes, Integer restoreReplicas,
                               List<String> remainingFinalizers, Plan.Event event) {
    }

    /**
     * @param so   the ScaledObject as read (its status and finalizers)
     * @param spec its parsed spec, or null when it does not parse
     * @param hpas the HPAs around its target and of its HPA's name, as the caches hold them
     */
    public static DeletionPlan plan(JsonNode so, ScaledObjectSpec spec, List<TargetClaims.SeenHpa> hpas) {
        List<Plan.HpaChange.Delete> deletes = new ArrayList<>();
        Integer restore = null;
        if (spec != null) {
            String uid = so.path("metadata").path("uid").asText();
            hpas.stream().filter(h -> uid.equals(h.ownerUid()))
                    .forEach(h -> deletes.add(new Plan.HpaChange.Delete(h.name(), h.uid())));
            JsonNode original = so.path("status").get("originalReplicaCount");
            if (spec.restoreToOriginalReplicaCount() && original != null && original.canConvertToInt()
                    && original.asInt() >= 0) {
                restore = original.asInt();
            }
        }
        List<String> remaining = new ArrayList<>();
        boolean ours = false;
        for (JsonNode f : so.path("metadata").path("finalizers")) {
            if (f.asText().equals(KedaKeys.FINALIZER)) {
                ours = true;
            } else {
                remaining.add(f.asText());
            }
        }
        return new DeletionPlan(deletes, restore, ours ? remaining : null,
                ours ? new Plan.Event("Normal", "ScaledObjectDeleted", "ScaledObject was deleted") : null);
    }
}
