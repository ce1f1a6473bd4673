using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Flare.Routing.Routing;

/// <summary>
/// One candidate's score as a scoring policy computes it, term by term:
/// <c>Score = QualityTerm − CostTerm − LatencyTerm − PriceTerm</c> (ROUTING.md §1; the price term is γ_i·ĉ_i/C + α_i).
/// </summary>
/// <param name="Excluded">Why the policy would not send this candidate the request regardless of its score (no budget in
/// the plan, …); null when it competes on its score.</param>
public readonly record struct CandidateScore(
    double Score, double QualityTerm, double CostTerm, double LatencyTerm, double PriceTerm,
    double? Gamma = null, double? Alpha = null, string? Excluded = null);

/// <summary>
/// A routing decision as the request path made it: the policy, a copy of the candidates with their estimates and the
/// requests each had in flight, and the pick. Taken on the request path (two small array copies); turned into a
/// <see cref="RoutingExplanation"/> off it, by the request log's writer.
/// </summary>
public sealed class RoutingDecisionRecord
{
    private RoutingDecisionRecord(IRoutingPolicy policy, string plan, Candidate[] candidates, int[] inFlight, int pick, RoutingRequest request)
    {
        (Policy, Plan, Candidates, InFlight, Pick, Request) = (policy, plan, candidates, inFlight, pick, request);
    }

    public IRoutingPolicy Policy { get; }

    /// <summary>The plan's version header (<c>default</c> for built-in defaults).</summary>
    public string Plan { get; }

    public Candidate[] Candidates { get; }

    /// <summary>Requests in flight on each candidate when the policy decided (the live state moves on).</summary>
    public int[] InFlight { get; }

    /// <summary>The chosen index, or a negative <see cref="RoutingDecision"/> value.</summary>
    public int Pick { get; }

    public RoutingRequest Request { get; }

    /// <summary>Copies what the policy saw.</summary>
    public static RoutingDecisionRecord Capture(IRoutingPolicy policy, string plan, ReadOnlySpan<Candidate> candidates, int pick, in RoutingRequest request)
    {
        var inFlight = new int[candidates.Length];
        for (var i = 0; i < candidates.Length; i++)
        {
            inFlight[i] = candidates[i].State.InFlight;
        }

        return new RoutingDecisionRecord(policy, plan, candidates.ToArray(), inFlight, pick, request);
    }

    /// <summary>Scores every candidate under the policy and says why the winner won.</summary>
    public RoutingExplanation Explain() => RoutingExplanation.Build(this);
}

/// <summary>
/// Why a request went where it went (the Explain view, <c>GET /api/requests/{id}</c>): every candidate's q̂, L̂_out, ℓ̂ and ĉ,
/// the plan's prices, the score with its terms, and a sentence on what decided it.
/// </summary>
/// <param name="Policy">The policy that decided.</param>
/// <param name="Plan">The plan's version, or <c>default</c> for a policy's built-in defaults.</param>
/// <param name="Rule">The policy's rule in words.</param>
/// <param name="Formula">The score with the plan's numbers; null for policies that do not score.</param>
/// <param name="Winner">The deployment the policy chose; null when it chose none.</param>
/// <param name="Why">What decided it.</param>
public sealed record RoutingExplanation(
    string Policy, string Plan, string Rule, string? Formula, string? Winner, string Why, IReadOnlyList<CandidateExplanation> Candidates)
{
    /// <summary>The stored form (camelCase JSON).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, PlanParameters.Json);

    /// <summary>Reads the stored form; null when <paramref name="json"/> is empty or not an explanation.</summary>
    public static RoutingExplanation? FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RoutingExplanation>(json, PlanParameters.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static RoutingExplanation Build(RoutingDecisionRecord decision)
    {
        var policy = decision.Policy;
        var scores = decision.Candidates.Select(c => policy.ScoreOf(decision.Request, c)).ToArray();
        var budgeted = policy as IBudgetedPolicy;
        var winner = decision.Pick >= 0 ? decision.Candidates[decision.Pick] : (Candidate?)null;
        var winnerScore = decision.Pick >= 0 ? scores[decision.Pick] : null;

        var rows = new CandidateExplanation[decision.Candidates.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            var (target, _, e) = decision.Candidates[i];
            var inFlight = decision.InFlight[i];
            var s = scores[i];
            var excluded = inFlight >= target.MaxConcurrency
                ? $"at its concurrency limit ({inFlight} of {target.MaxConcurrency} in flight)"
                : s?.Excluded;
            if (excluded is null && s is { } mine && winnerScore is { } best && i != decision.Pick && mine.Score > best.Score)
            {
                // It scored higher and was not excluded up front: the policy refused it while deciding.
                excluded = budgeted is not null ? "its budget for this period is spent" : "refused by the policy";
            }

            rows[i] = new CandidateExplanation(
                target.Name, target.ModelName, inFlight, target.MaxConcurrency,
                e.Quality, e.OutputTokens, e.LatencyMs, e.TtftMs, e.CostUsd, SourceName(e.Source),
                s?.Gamma, s?.Alpha, s?.Score, s?.QualityTerm, s?.CostTerm, s?.LatencyTerm, s?.PriceTerm,
                i == decision.Pick, excluded);
        }

        return new RoutingExplanation(
            policy.Name, decision.Plan, RoutingPolicies.Describe(policy.Name), policy.Formula,
            winner?.Target.Name, Reason(decision, rows), rows);
    }

    private static string Reason(RoutingDecisionRecord decision, CandidateExplanation[] rows)
    {
        if (decision.Pick == RoutingDecision.BudgetExhausted)
        {
            return "Dropped: the best-scoring deployment's budget for this period is spent and the plan drops rather than falls back (PORT's drop); the client got 429 with Retry-After.";
        }

        if (decision.Pick < 0)
        {
            return "No candidate could take the request: every deployment was excluded or at its concurrency limit.";
        }

        var w = rows[decision.Pick];
        if (w.Score is not { } ws)
        {
            return $"{decision.Policy.Name} chose {w.Deployment}. {RoutingPolicies.Describe(decision.Policy.Name)}";
        }

        var competing = rows.Where((r, i) => i != decision.Pick && r.Excluded is null && r.Score is not null).ToList();
        var why = new StringBuilder();
        why.Append(CultureInfo.InvariantCulture, $"{w.Deployment} has the highest score, {ws:0.####}, of {competing.Count + 1} candidate(s) that could take the request");
        if (competing.Count == 0)
        {
            why.Append(rows.Length > 1 ? "; every other candidate was excluded (see each one's note)." : "; it was the only candidate.");
            return why.ToString();
        }

        var runnerUp = competing.MaxBy(r => r.Score!.Value)!;
        var margin = ws - runnerUp.Score!.Value;
        why.Append(CultureInfo.InvariantCulture, $". The next best, {runnerUp.Deployment}, scored {runnerUp.Score:0.####}");
        if (margin == 0)
        {
            why.Append("; a tie, which goes to the lower deployment id.");
            return why.ToString();
        }

        why.Append(CultureInfo.InvariantCulture, $" ({margin:0.####} less). ");
        // Each term's contribution to the margin: positive terms favoured the winner.
        var terms = new (string Name, double Delta)[]
        {
            ("quality", (w.QualityTerm ?? 0) - (runnerUp.QualityTerm ?? 0)),
            ("cost", (runnerUp.CostTerm ?? 0) - (w.CostTerm ?? 0)),
            ("latency", (runnerUp.LatencyTerm ?? 0) - (w.LatencyTerm ?? 0)),
            ("price", (runnerUp.PriceTerm ?? 0) - (w.PriceTerm ?? 0)),
        };
        var forWinner = terms.Where(t => t.Delta > 1e-12).OrderByDescending(t => t.Delta).ToList();
        var against = terms.Where(t => t.Delta < -1e-12).OrderBy(t => t.Delta).ToList();
        if (forWinner.Count > 0)
        {
            why.Append("It won on ").Append(string.Join(", ", forWinner.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} (+{t.Delta:0.####})"))));
            why.Append(against.Count > 0
                ? ", which outweighed " + string.Join(", ", against.Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name} ({t.Delta:0.####})"))) + "."
                : ".");
        }

        return why.ToString();
    }

    private static string SourceName(EstimateSource source) => source switch
    {
        EstimateSource.History => "history",
        EstimateSource.Prior => "prior",
        EstimateSource.Default => "default",
        _ => "none",
    };
}

/// <summary>One candidate of an explained decision: its state, its estimates, its price and its score.</summary>
public sealed record CandidateExplanation(
    string Deployment, string Model, int InFlight, int MaxConcurrency,
    double Quality, double OutputTokens, double LatencyMs, double TtftMs, double CostUsd, string Source,
    double? Gamma, double? Alpha, double? Score, double? QualityTerm, double? CostTerm, double? LatencyTerm, double? PriceTerm,
    bool Chosen, string? Excluded);
