"""Node-pool upgrades (EKS, GKE, AKS) as pure state machines; see simkit.control.nodepool_upgrade."""
