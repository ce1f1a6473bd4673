using Flare.Data.Registry;
using Flare.Routing.Registry;
using Flare.Routing.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Flare.Data.Plans;

/// <summary>
/// Routing plans and their activation audit trail in the database: the one gateway the plan job, the UI and
/// <c>/api/plans</c> use. A plan is created <see cref="RoutingPlanStatus.Computing"/>, then completed
/// (<see cref="RoutingPlanStatus.Ready"/> with prices and predictions) or failed with a reason, and never edited after.
/// Activating writes an activation in one transaction; the live plan is the newest activation; a roll-back is a new
/// activation of the plan that was live before. Expected failures are <see cref="Outcome{T}"/> values.
/// </summary>
public sealed class PlanStore(IDbContextFactory<FlareDbContext> dbFactory, PlanChangeSignal changes, TimeProvider time)
{
    /// <summary>Longest who and why kept, in characters (the columns' sizes).</summary>
    public const int MaxByLength = 100, MaxReasonLength = 1000;

    /// <summary>What activations and rollbacks serialize on: each reads the live plan and writes the next one.</summary>
    private const string ActivationScope = "plan-activation";

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>Stores a plan to compute: checks the policy, its parameters, the models they name and who/why.</summary>
    public async Task<Outcome<PlanView>> CreateAsync(string policy, PlanParameters? parameters, string createdBy, string reason, CancellationToken ct = default)
    {
        parameters ??= new PlanParameters();
        var errors = parameters.Validate(policy ?? "");
        CheckWhoAndWhy(errors, createdBy, reason);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        foreach (var (field, model) in parameters.NamedModels(policy ?? ""))
        {
            if (!await db.Models.AnyAsync(m => m.Name == model, ct))
            {
                errors.Add(field, $"There is no registered model '{model}'.");
            }
        }

        if (!errors.IsEmpty)
        {
            return Outcome<PlanView>.Invalid(errors);
        }

        var row = new RoutingPlanEntity
        {
            Policy = policy!,
            ParametersJson = parameters.ToJson(),
            PricesJson = "{}",
            Status = RoutingPlanStatus.Computing,
            CreatedUtc = Now,
            CreatedBy = createdBy.Trim(),
            Reason = reason.Trim(),
        };
        db.RoutingPlans.Add(row);
        await db.SaveChangesAsync(ct);
        changes.Raise();
        return Outcome<PlanView>.Ok(ToView(row, null, null));
    }

    /// <summary>Records a computed plan. Only a plan still computing can be completed, so a job that runs twice changes nothing.</summary>
    public Task<Outcome<PlanView>> CompleteAsync(long id, PlanPrices prices, PlanPrediction? predicted, CancellationToken ct = default) =>
        FinishAsync(id, row =>
        {
            row.Status = RoutingPlanStatus.Ready;
            row.PricesJson = prices.ToJson();
            row.PredictedJson = predicted?.ToJson();
        }, ct);

    /// <summary>Records why a plan could not be computed.</summary>
    public Task<Outcome<PlanView>> FailAsync(long id, string reason, CancellationToken ct = default) =>
        FinishAsync(id, row =>
        {
            row.Status = RoutingPlanStatus.Failed;
            row.Failure = reason.Length > 2000 ? reason[..2000] : reason;
        }, ct);

    public async Task<PlanView?> GetAsync(long id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.RoutingPlans.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, ct);
        return row is null ? null : ToView(row, await LiveActivationAsync(db, ct), await LastActivatedAsync(db, id, ct));
    }

    /// <summary>Every plan, newest first.</summary>
    public async Task<IReadOnlyList<PlanView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.RoutingPlans.AsNoTracking().OrderByDescending(p => p.Id).ToListAsync(ct);
        var live = await LiveActivationAsync(db, ct);
        var lastActivated = await db.RoutingPlanActivations.AsNoTracking()
            .GroupBy(a => a.PlanId)
            .Select(g => new { PlanId = g.Key, Last = g.Max(a => a.ActivatedUtc) })
            .ToDictionaryAsync(x => x.PlanId, x => x.Last, ct);
        return rows.Select(r => ToView(r, live, lastActivated.TryGetValue(r.Id, out var at) ? at : null)).ToList();
    }

    /// <summary>The audit trail, newest first.</summary>
    public async Task<IReadOnlyList<PlanActivationView>> ListActivationsAsync(int limit = 200, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await NewestActivationsAsync(db, Math.Clamp(limit, 1, 10_000), ct);
    }

    /// <summary>The live plan and its activation; both null when no plan was ever activated.</summary>
    public async Task<LivePlanView> GetLiveAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var activation = (await NewestActivationsAsync(db, 1, ct)).FirstOrDefault();
        if (activation is null)
        {
            return new LivePlanView(null, null);
        }

        var row = await db.RoutingPlans.AsNoTracking().SingleAsync(p => p.Id == activation.PlanId, ct);
        var entity = await db.RoutingPlanActivations.AsNoTracking().SingleAsync(a => a.Id == activation.Id, ct);
        return new LivePlanView(ToView(row, entity, activation.ActivatedUtc), activation);
    }

    /// <summary>The newest ready plan of each policy (what a request naming a policy routes by when it is not live).</summary>
    public async Task<IReadOnlyList<PlanView>> NewestReadyByPolicyAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var ids = await db.RoutingPlans.AsNoTracking().Where(p => p.Status == RoutingPlanStatus.Ready)
            .GroupBy(p => p.Policy).Select(g => g.Max(p => p.Id)).ToListAsync(ct);
        var rows = await db.RoutingPlans.AsNoTracking().Where(p => ids.Contains(p.Id)).ToListAsync(ct);
        var live = await LiveActivationAsync(db, ct);
        return rows.Select(r => ToView(r, live, null)).ToList();
    }

    /// <summary>Plans still computing: after a restart their jobs (kept in memory) are gone and must be queued again.</summary>
    public async Task<IReadOnlyList<long>> ListComputingAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RoutingPlans.Where(p => p.Status == RoutingPlanStatus.Computing).Select(p => p.Id).ToListAsync(ct);
    }

    /// <summary>
    /// Makes a ready plan live. In one serialized transaction (concurrent activations, on any host, queue): the plan is
    /// checked, the live plan read, and an activation written that records it as the previous one.
    /// </summary>
    public async Task<Outcome<PlanActivationView>> ActivateAsync(long id, string activatedBy, string reason, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        CheckWhoAndWhy(errors, activatedBy, reason);
        if (!errors.IsEmpty)
        {
            return Outcome<PlanActivationView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginSerializedTransactionAsync(ActivationScope, ct);
        var plan = await db.RoutingPlans.AsNoTracking().SingleOrDefaultAsync(p => p.Id == id, ct);
        if (plan is null)
        {
            return Outcome<PlanActivationView>.NotFound($"Plan {id} does not exist.");
        }

        if (plan.Status != RoutingPlanStatus.Ready)
        {
            return Outcome<PlanActivationView>.Conflict($"Plan {id} is {plan.Status.ToString().ToLowerInvariant()}; only a ready plan can be made live.");
        }

        var live = await LiveActivationAsync(db, ct);
        if (live?.PlanId == id)
        {
            return Outcome<PlanActivationView>.Conflict($"Plan {id} is already live.");
        }

        return await CommitActivationAsync(db, tx, plan, live?.PlanId, activatedBy, reason, ct);
    }

    /// <summary>Makes the plan that was live before the current one live again, as a new activation (in one transaction).</summary>
    public async Task<Outcome<PlanActivationView>> RollbackAsync(string activatedBy, string reason, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        CheckWhoAndWhy(errors, activatedBy, reason);
        if (!errors.IsEmpty)
        {
            return Outcome<PlanActivationView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginSerializedTransactionAsync(ActivationScope, ct);
        var live = await LiveActivationAsync(db, ct);
        if (live?.PreviousPlanId is not { } previousId)
        {
            return Outcome<PlanActivationView>.Conflict(live is null
                ? "No plan has been made live yet; there is nothing to roll back."
                : $"Plan {live.PlanId} was the first plan made live; there is no earlier plan to roll back to.");
        }

        var previous = await db.RoutingPlans.AsNoTracking().SingleAsync(p => p.Id == previousId, ct);
        return await CommitActivationAsync(db, tx, previous, live.PlanId, activatedBy, reason, ct);
    }

    /// <summary>Writes the activation of <paramref name="plan"/>, commits <paramref name="tx"/> and tells the hosts.</summary>
    private async Task<Outcome<PlanActivationView>> CommitActivationAsync(
        FlareDbContext db, IDbContextTransaction tx, RoutingPlanEntity plan, long? previous, string by, string reason, CancellationToken ct)
    {
        var row = new RoutingPlanActivationEntity
        {
            PlanId = plan.Id,
            ActivatedUtc = Now,
            ActivatedBy = by.Trim(),
            Reason = reason.Trim(),
            PreviousPlanId = previous,
        };
        db.RoutingPlanActivations.Add(row);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        changes.Raise();
        return Outcome<PlanActivationView>.Ok(new PlanActivationView(
            row.Id, row.PlanId, plan.Policy, DateTime.SpecifyKind(row.ActivatedUtc, DateTimeKind.Utc), row.ActivatedBy, row.Reason, row.PreviousPlanId));
    }

    private async Task<Outcome<PlanView>> FinishAsync(long id, Action<RoutingPlanEntity> finish, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.RoutingPlans.SingleOrDefaultAsync(p => p.Id == id, ct);
        if (row is null)
        {
            return Outcome<PlanView>.NotFound($"Plan {id} does not exist.");
        }

        if (row.Status != RoutingPlanStatus.Computing)
        {
            return Outcome<PlanView>.Conflict($"Plan {id} is already {row.Status.ToString().ToLowerInvariant()}.");
        }

        finish(row);
        await db.SaveChangesAsync(ct);
        changes.Raise();
        return Outcome<PlanView>.Ok(ToView(row, await LiveActivationAsync(db, ct), null));
    }

    private static void CheckWhoAndWhy(FieldErrors errors, string? by, string? reason)
    {
        if (string.IsNullOrWhiteSpace(by) || by.Trim().Length > MaxByLength)
        {
            errors.Add("by", $"Say who (1 to {MaxByLength} characters).");
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            errors.Add("reason", "Say why: the reason is kept in the plan history.");
        }
        else if (reason.Trim().Length > MaxReasonLength)
        {
            errors.Add("reason", $"Keep the reason under {MaxReasonLength} characters.");
        }
    }

    private static Task<RoutingPlanActivationEntity?> LiveActivationAsync(FlareDbContext db, CancellationToken ct) =>
        db.RoutingPlanActivations.AsNoTracking().OrderByDescending(a => a.Id).FirstOrDefaultAsync(ct);

    private static async Task<DateTime?> LastActivatedAsync(FlareDbContext db, long planId, CancellationToken ct) =>
        await db.RoutingPlanActivations.AsNoTracking().Where(a => a.PlanId == planId)
            .OrderByDescending(a => a.Id).Select(a => (DateTime?)a.ActivatedUtc).FirstOrDefaultAsync(ct);

    private static async Task<List<PlanActivationView>> NewestActivationsAsync(FlareDbContext db, int limit, CancellationToken ct)
    {
        var rows = await (
                from a in db.RoutingPlanActivations.AsNoTracking()
                join p in db.RoutingPlans.AsNoTracking() on a.PlanId equals p.Id
                orderby a.Id descending
                select new { a.Id, a.PlanId, p.Policy, a.ActivatedUtc, a.ActivatedBy, a.Reason, a.PreviousPlanId })
            .Take(limit)
            .ToListAsync(ct);
        return rows.ConvertAll(a => new PlanActivationView(
            a.Id, a.PlanId, a.Policy, DateTime.SpecifyKind(a.ActivatedUtc, DateTimeKind.Utc), a.ActivatedBy, a.Reason, a.PreviousPlanId));
    }

    private static PlanView ToView(RoutingPlanEntity row, RoutingPlanActivationEntity? live, DateTime? lastActivated) => new(
        row.Id,
        row.Policy,
        PlanParameters.Parse(row.ParametersJson),
        PlanPrices.Parse(row.PricesJson),
        PlanPrediction.Parse(row.PredictedJson),
        row.Status,
        row.Failure,
        DateTime.SpecifyKind(row.CreatedUtc, DateTimeKind.Utc),
        row.CreatedBy,
        row.Reason,
        live?.PlanId == row.Id,
        lastActivated is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null);
}
