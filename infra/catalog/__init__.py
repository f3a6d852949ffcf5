"""What the providers offer, as cited, dated tables: Kubernetes versions in EKS standard support with the add-on
and chart pins chosen for each. Pure data at the bottom of the program: config validates against it, planning
and components build from it."""
