package dev.lagscaler.plan;

import dev.lagscaler.scaling.ScaledObjectSpec;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the admission webhook refuses, as KEDA's webhook does, from what the caller read: a ScaledObject that does
 * not parse (KEDA's checks: replica counts, fallback, duplicate trigger names, scalingModifiers), names too long for
 * the label values our HPA carries, another ScaledObject or an HPA not ours on the target, an HPA name taken, and
 * cpu/memory Utilization triggers on a container without that request (unless a LimitRange defaults it). Pure.
 */
public final class AdmissionRules {
    /** The longest label value Kubernetes accepts; the HPA carries both names in labels. */
    static final int MAX_LABEL_VALUE = 63;

    private AdmissionRules() {
    }

    /** A container of the target's pod template: its name and which resources it requests. */
    public record Container(String name, Set<String> requests) {
    }

    /**
     * Why the ScaledObject, which parsed (one that does not is refused with the parser's message), must not be
     * admitted, or empty. {@code limitRangeDefaults} holds the resources a LimitRange
     * in the namespace gives containers a default request for.
     */
    public static Optional<String> refusal(ScaledObjectSpec spec, String uid, List<TargetClaims.OtherScaledObject> others,
                                           List<TargetClaims.SeenHpa> hpas, List<Container> containers,
                                           Set<String> limitRangeDefaults) {
        if (spec.name().length() > MAX_LABEL_VALUE) {
            return Optional.of("the ScaledObject name '" + spec.name() + "' is longer than " + MAX_LABEL_VALUE
                    + " characters: its HPA carries it in label values, which cannot be");
        }
        if (spec.hpaName().length() > MAX_LABEL_VALUE) {
            return Optional.of("the HPA name '" + spec.hpaName() + "' is longer than " + MAX_LABEL_VALUE
                    + " characters: the HPA carries it in a label value, which cannot be");
        }
        Optional<String> conflict = TargetClaims.conflictAtAdmission(spec, uid, others, hpas);
        if (conflict.isPresent()) {
            return conflict;
        }
        for (ScaledObjectSpec.TriggerSpec trigger : spec.triggers()) {
            if (!trigger.isResource() || (trigger.metricType() != null && !trigger.metricType().equals("Utilization"))
                    || limitRangeDefaults.contains(trigger.type())) {
                continue;
            }
            String only = trigger.metadata().get("containerName");
            for (Container c : containers) {
                if ((only == null || only.equals(c.name())) && !c.requests().contains(trigger.type())) {
                    return Optional.of("the scaledobject has a " + trigger.type() + " trigger but the container "
                            + c.name() + " doesn't have the " + trigger.type() + " request defined");
                }
            }
        }
        return Optional.empty();
    }
}
