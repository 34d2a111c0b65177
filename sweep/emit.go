package sweep

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// ShellQuote quotes s for a POSIX shell (unchanged when it needs no quotes).
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ShellJoin quotes every word and joins them with spaces.
func ShellJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ShellQuote(w)
	}
	return strings.Join(q, " ")
}

// ClusterJob describes the cluster job that runs a grid, one shard per task.
type ClusterJob struct {
	// Bin is the faudit binary as the job's shell finds it (e.g. "faudit").
	Bin string
	// Args is the faudit argument list that runs the whole grid, as the
	// tasks see the paths (e.g. sweep --rules bp,dfa … --out /abs/out);
	// each task appends --shard <task>/<Shards> --jobs 1.
	Args   []string
	Shards int
	Cells  int    // cells in the grid, for the header comment
	Name   string // job name
	CPUs   int    // CPUs per task
}

// shardCommand is the task's shell command; index is the shell expression
// of the task index.
func (j ClusterJob) shardCommand(index string) string {
	return "exec " + ShellJoin(append([]string{j.Bin}, j.Args...)) +
		fmt.Sprintf(` --shard "%s/%d" --jobs 1`, index, j.Shards)
}

// SlurmOptions are the Slurm-specific settings.
type SlurmOptions struct {
	Time   string // --time limit ("" = the partition's default)
	Chdir  string // working directory of the tasks (relative paths in Args)
	LogDir string // directory of the per-task output files
}

// Slurm returns a bash script that runs the job as a Slurm array, one
// shard per array task (submit with sbatch).
func Slurm(j ClusterJob, o SlurmOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", slurmWord(j.Name))
	fmt.Fprintf(&b, "#SBATCH --array=0-%d\n", j.Shards-1)
	fmt.Fprintf(&b, "#SBATCH --ntasks=1\n")
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", j.CPUs)
	if o.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", slurmWord(o.Time))
	}
	if o.Chdir != "" {
		fmt.Fprintf(&b, "#SBATCH --chdir=%s\n", slurmWord(o.Chdir))
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s\n", slurmWord(strings.TrimRight(o.LogDir, "/")+"/%A_%a.out"))
	fmt.Fprintf(&b, "#\n# faudit: %d cells in %d shards, one per array task; finished cells are skipped and\n", j.Cells, j.Shards)
	fmt.Fprintf(&b, "# interrupted ones resume, so resubmitting this script finishes only what is missing.\n")
	fmt.Fprintf(&b, "set -euo pipefail\n")
	fmt.Fprintf(&b, "export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-%d}\"\n", j.CPUs)
	fmt.Fprintf(&b, "%s\n", j.shardCommand("${SLURM_ARRAY_TASK_ID}"))
	return b.String()
}

// slurmWord makes s safe on an #SBATCH line, which sbatch splits at blanks.
func slurmWord(s string) string { return strings.Map(blankToUnderscore, s) }

func blankToUnderscore(r rune) rune {
	if r == ' ' || r == '\t' || r == '\n' || r == '\r' {
		return '_'
	}
	return r
}

// K8sOptions are the Kubernetes-specific settings.
type K8sOptions struct {
	Image       string
	PVC         string // PersistentVolumeClaim shared by all shards
	Mount       string // where the claim is mounted (also the working directory)
	Parallelism int    // pods at a time
	Retries     int    // backoffLimitPerIndex: retries of a failed shard
}

var dns1123 = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// K8s returns a batch/v1 Indexed Job manifest (YAML) that runs the job, one
// shard per completion index (submit with kubectl apply -f).
func K8s(j ClusterJob, o K8sOptions) (string, error) {
	switch {
	case len(j.Name) > 63 || !dns1123.MatchString(j.Name):
		return "", fmt.Errorf("--job-name %q: a Kubernetes Job name is lower-case letters, digits and '-', at most 63 characters", j.Name)
	case o.PVC == "" || len(o.PVC) > 253:
		return "", fmt.Errorf("--emit k8s needs --pvc CLAIM: the PersistentVolumeClaim every shard writes its results to")
	case o.Image == "":
		return "", fmt.Errorf("--image: expected a container image that has faudit on its PATH")
	case !strings.HasPrefix(o.Mount, "/"):
		return "", fmt.Errorf("--mount %q: expected an absolute path", o.Mount)
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) } // a JSON string is a YAML scalar
	var b strings.Builder
	fmt.Fprintf(&b, "# faudit: %d cells in %d shards, one per completion index; finished cells are skipped and\n", j.Cells, j.Shards)
	fmt.Fprintf(&b, "# interrupted ones resume, so applying the Job again finishes only what is missing.\n")
	fmt.Fprintf(&b, "# Results land in the PersistentVolumeClaim %s, mounted at %s.\n", o.PVC, o.Mount)
	fmt.Fprintf(&b, "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: %s\n  labels:\n    app.kubernetes.io/name: faudit\n", q(j.Name))
	fmt.Fprintf(&b, "spec:\n  completionMode: Indexed\n  completions: %d\n  parallelism: %d\n  backoffLimitPerIndex: %d\n",
		j.Shards, o.Parallelism, o.Retries)
	fmt.Fprintf(&b, "  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: faudit\n")
	fmt.Fprintf(&b, "    spec:\n      restartPolicy: Never\n      containers:\n        - name: faudit\n")
	fmt.Fprintf(&b, "          image: %s\n", q(o.Image))
	fmt.Fprintf(&b, "          workingDir: %s\n", q(o.Mount))
	// Kubernetes sets JOB_COMPLETION_INDEX in an Indexed Job's pods; the
	// shell expands it. k8sEscape keeps Kubernetes' own $(VAR) expansion
	// off the command.
	fmt.Fprintf(&b, "          command: [\"sh\", \"-c\", %s]\n", q(k8sEscape(j.shardCommand("${JOB_COMPLETION_INDEX}"))))
	fmt.Fprintf(&b, "          env:\n            - name: GOMAXPROCS\n              value: %s\n", q(fmt.Sprint(j.CPUs)))
	fmt.Fprintf(&b, "          resources:\n            requests:\n              cpu: %s\n            limits:\n              cpu: %s\n",
		q(fmt.Sprint(j.CPUs)), q(fmt.Sprint(j.CPUs)))
	fmt.Fprintf(&b, "          volumeMounts:\n            - name: results\n              mountPath: %s\n", q(o.Mount))
	fmt.Fprintf(&b, "      volumes:\n        - name: results\n          persistentVolumeClaim:\n            claimName: %s\n", q(o.PVC))
	return b.String(), nil
}

// k8sEscape doubles every '$' that Kubernetes would otherwise read as the
// start of $(VAR) or as the escape $$, so the container gets s verbatim.
func k8sEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '$' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '(') {
			b.WriteByte('$')
		}
	}
	return b.String()
}
