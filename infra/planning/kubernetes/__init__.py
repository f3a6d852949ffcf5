"""Pure functions of tier B (EKS): versions, node capacity, IAM documents, kubeconfig, Helm values, manifests."""
