using Flare.Routing.Registry;
using Microsoft.EntityFrameworkCore;

namespace Flare.Data.Registry;

/// <summary>
/// The registry's one gateway to the database, used by the UI and by <c>/api</c> alike: it applies
/// <see cref="RegistryRules"/>, the cross-entity rules (a deployment needs an existing model; a model
/// with deployments cannot be deleted; names are unique), and signals every change.
/// </summary>
public sealed class RegistryStore(IDbContextFactory<FlareDbContext> dbFactory, RegistryChangeSignal changes, TimeProvider time)
{
    // ---------------------------------------------------------------- GPU types and pool

    public async Task<IReadOnlyList<GpuTypeView>> ListGpuTypesAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var usage = await GpuUsageAsync(db, ct);
        var rows = await db.GpuTypes.AsNoTracking().OrderBy(g => g.Name).ToListAsync(ct);
        return rows.Select(g => ToView(g, usage)).ToList();
    }

    public async Task<Outcome<GpuTypeView>> GetGpuTypeAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.GpuTypes.AsNoTracking().SingleOrDefaultAsync(g => g.Id == id, ct);
        return row is null
            ? Outcome<GpuTypeView>.NotFound($"GPU type {id} does not exist.")
            : Outcome<GpuTypeView>.Ok(ToView(row, await GpuUsageAsync(db, ct)));
    }

    public async Task<Outcome<GpuTypeView>> CreateGpuTypeAsync(GpuTypeInput input, CancellationToken ct = default)
    {
        var errors = RegistryRules.Validate(input);
        if (!errors.IsEmpty)
        {
            return Outcome<GpuTypeView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.GpuTypes.AnyAsync(g => g.Name == input.Name, ct))
        {
            return Outcome<GpuTypeView>.Conflict($"A GPU type named '{input.Name}' already exists.", nameof(input.Name));
        }

        var now = Now;
        var row = new GpuTypeEntity { CreatedUtc = now, PoolCount = input.PoolCount ?? 0 };
        Apply(row, input, now);
        db.GpuTypes.Add(row);
        return await SaveAsync(db, () => ToView(row, new()), ct);
    }

    public async Task<Outcome<GpuTypeView>> UpdateGpuTypeAsync(int id, GpuTypeInput input, CancellationToken ct = default)
    {
        var errors = RegistryRules.Validate(input);
        if (!errors.IsEmpty)
        {
            return Outcome<GpuTypeView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.GpuTypes.SingleOrDefaultAsync(g => g.Id == id, ct);
        if (row is null)
        {
            return Outcome<GpuTypeView>.NotFound($"GPU type {id} does not exist.");
        }

        if (await db.GpuTypes.AnyAsync(g => g.Name == input.Name && g.Id != id, ct))
        {
            return Outcome<GpuTypeView>.Conflict($"A GPU type named '{input.Name}' already exists.", nameof(input.Name));
        }

        Apply(row, input, Now);
        var usage = await GpuUsageAsync(db, ct);
        return await SaveAsync(db, () => ToView(row, usage), ct);
    }

    public async Task<Outcome<bool>> DeleteGpuTypeAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.GpuTypes.SingleOrDefaultAsync(g => g.Id == id, ct);
        if (row is null)
        {
            return Outcome<bool>.NotFound($"GPU type {id} does not exist.");
        }

        var users = await db.Deployments.Where(d => d.GpuTypeId == id).Select(d => d.Name).ToListAsync(ct);
        if (users.Count > 0)
        {
            return Outcome<bool>.Conflict(
                $"GPU type '{row.Name}' is used by {users.Count} deployment(s) ({string.Join(", ", users.Take(5))}); " +
                "move or delete them first.");
        }

        db.GpuTypes.Remove(row);
        return await SaveAsync(db, () => true, ct);
    }

    public async Task<IReadOnlyList<GpuPoolLine>> GetPoolAsync(CancellationToken ct = default)
    {
        var types = await ListGpuTypesAsync(ct);
        return types.Select(t => new GpuPoolLine(t.Id, t.Name, t.PoolCount, t.GpusInUse, t.PricePerHourUsd)).ToList();
    }

    public async Task<Outcome<GpuPoolLine>> SetPoolCountAsync(int gpuTypeId, int count, CancellationToken ct = default)
    {
        var errors = RegistryRules.ValidatePoolCount(count);
        if (!errors.IsEmpty)
        {
            return Outcome<GpuPoolLine>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.GpuTypes.SingleOrDefaultAsync(g => g.Id == gpuTypeId, ct);
        if (row is null)
        {
            return Outcome<GpuPoolLine>.NotFound($"GPU type {gpuTypeId} does not exist.");
        }

        row.PoolCount = count;
        row.UpdatedUtc = Now;
        var usage = await GpuUsageAsync(db, ct);
        var inUse = usage.TryGetValue(row.Id, out var u) ? u.Gpus : 0;
        return await SaveAsync(db, () => new GpuPoolLine(row.Id, row.Name, row.PoolCount, inUse, row.PricePerHourUsd), ct);
    }

    // ---------------------------------------------------------------- models

    public async Task<IReadOnlyList<ModelView>> ListModelsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Models.AsNoTracking().OrderBy(m => m.Name)
            .Select(m => new { Model = m, Count = m.Deployments.Count })
            .ToListAsync(ct);
        return rows.Select(r => ToView(r.Model, r.Count)).ToList();
    }

    public async Task<Outcome<ModelView>> GetModelAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Models.AsNoTracking().Where(m => m.Id == id)
            .Select(m => new { Model = m, Count = m.Deployments.Count }).SingleOrDefaultAsync(ct);
        return row is null
            ? Outcome<ModelView>.NotFound($"Model {id} does not exist.")
            : Outcome<ModelView>.Ok(ToView(row.Model, row.Count));
    }

    public async Task<Outcome<ModelView>> CreateModelAsync(ModelInput input, CancellationToken ct = default)
    {
        var errors = RegistryRules.Validate(input);
        if (!errors.IsEmpty)
        {
            return Outcome<ModelView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Models.AnyAsync(m => m.Name == input.Name, ct))
        {
            return Outcome<ModelView>.Conflict($"A model named '{input.Name}' already exists.", nameof(input.Name));
        }

        var now = Now;
        var row = new ModelEntity { CreatedUtc = now };
        Apply(row, input, now);
        db.Models.Add(row);
        return await SaveAsync(db, () => ToView(row, 0), ct);
    }

    public async Task<Outcome<ModelView>> UpdateModelAsync(int id, ModelInput input, CancellationToken ct = default)
    {
        var errors = RegistryRules.Validate(input);
        if (!errors.IsEmpty)
        {
            return Outcome<ModelView>.Invalid(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Models.SingleOrDefaultAsync(m => m.Id == id, ct);
        if (row is null)
        {
            return Outcome<ModelView>.NotFound($"Model {id} does not exist.");
        }

        if (await db.Models.AnyAsync(m => m.Name == input.Name && m.Id != id, ct))
        {
            return Outcome<ModelView>.Conflict($"A model named '{input.Name}' already exists.", nameof(input.Name));
        }

        Apply(row, input, Now);
        var count = await db.Deployments.CountAsync(d => d.ModelId == id, ct);
        return await SaveAsync(db, () => ToView(row, count), ct);
    }

    public async Task<Outcome<bool>> DeleteModelAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Models.SingleOrDefaultAsync(m => m.Id == id, ct);
        if (row is null)
        {
            return Outcome<bool>.NotFound($"Model {id} does not exist.");
        }

        var users = await db.Deployments.Where(d => d.ModelId == id).Select(d => d.Name).ToListAsync(ct);
        if (users.Count > 0)
        {
            return Outcome<bool>.Conflict(
                $"Model '{row.Name}' has {users.Count} deployment(s) ({string.Join(", ", users.Take(5))}); " +
                "delete those deployments first.");
        }

        db.Models.Remove(row);
        return await SaveAsync(db, () => true, ct);
    }

    // ---------------------------------------------------------------- deployments

    public async Task<IReadOnlyList<DeploymentView>> ListDeploymentsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Deployments.AsNoTracking().Include(d => d.Model).Include(d => d.GpuType)
            .OrderBy(d => d.Name).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    public async Task<Outcome<DeploymentView>> GetDeploymentAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Deployments.AsNoTracking().Include(d => d.Model).Include(d => d.GpuType)
            .SingleOrDefaultAsync(d => d.Id == id, ct);
        return row is null
            ? Outcome<DeploymentView>.NotFound($"Deployment {id} does not exist.")
            : Outcome<DeploymentView>.Ok(ToView(row));
    }

    /// <summary>
    /// The memory-fit warning a deployment with these fields would get, or null; the form shows it while
    /// the operator is still choosing GPUs.
    /// </summary>
    public async Task<string?> PreviewMemoryWarningAsync(int modelId, int? gpuTypeId, int gpuCount, CancellationToken ct = default)
    {
        if (gpuTypeId is null || gpuCount < 1)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var model = await db.Models.AsNoTracking().SingleOrDefaultAsync(m => m.Id == modelId, ct);
        var gpu = await db.GpuTypes.AsNoTracking().SingleOrDefaultAsync(g => g.Id == gpuTypeId, ct);
        return model is null || gpu is null ? null : RegistryRules.MemoryFitWarning(model.ToDomain(), gpu.ToDomain(), gpuCount);
    }

    public async Task<Outcome<DeploymentView>> CreateDeploymentAsync(DeploymentInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var check = await CheckDeploymentAsync(db, input, id: null, ct);
        if (check is not null)
        {
            return check;
        }

        var now = Now;
        var row = new DeploymentEntity { CreatedUtc = now };
        Apply(row, input, now);
        db.Deployments.Add(row);
        return await SaveDeploymentAsync(db, row, ct);
    }

    public async Task<Outcome<DeploymentView>> UpdateDeploymentAsync(int id, DeploymentInput input, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Deployments.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (row is null)
        {
            return Outcome<DeploymentView>.NotFound($"Deployment {id} does not exist.");
        }

        var check = await CheckDeploymentAsync(db, input, id, ct);
        if (check is not null)
        {
            return check;
        }

        Apply(row, input, Now);
        return await SaveDeploymentAsync(db, row, ct);
    }

    public async Task<Outcome<bool>> DeleteDeploymentAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.Deployments.SingleOrDefaultAsync(d => d.Id == id, ct);
        if (row is null)
        {
            return Outcome<bool>.NotFound($"Deployment {id} does not exist.");
        }

        db.Deployments.Remove(row);
        return await SaveAsync(db, () => true, ct);
    }

    /// <summary>Field rules, then the rules that need the database. Null when the input may be saved.</summary>
    private static async Task<Outcome<DeploymentView>?> CheckDeploymentAsync(FlareDbContext db, DeploymentInput input, int? id, CancellationToken ct)
    {
        var errors = RegistryRules.Validate(input);
        if (input.ModelId > 0 && !await db.Models.AnyAsync(m => m.Id == input.ModelId, ct))
        {
            errors.Add(nameof(input.ModelId), $"Model {input.ModelId} does not exist; register the model first.");
        }

        if (input.GpuTypeId is > 0 && !await db.GpuTypes.AnyAsync(g => g.Id == input.GpuTypeId, ct))
        {
            errors.Add(nameof(input.GpuTypeId), $"GPU type {input.GpuTypeId} does not exist.");
        }

        if (!errors.IsEmpty)
        {
            return Outcome<DeploymentView>.Invalid(errors);
        }

        if (await db.Deployments.AnyAsync(d => d.Name == input.Name && d.Id != id, ct))
        {
            return Outcome<DeploymentView>.Conflict($"A deployment named '{input.Name}' already exists.", nameof(input.Name));
        }

        return null;
    }

    private async Task<Outcome<DeploymentView>> SaveDeploymentAsync(FlareDbContext db, DeploymentEntity row, CancellationToken ct)
    {
        var saved = await SaveAsync(db, () => row.Id, ct);
        if (!saved.IsOk)
        {
            return new Outcome<DeploymentView> { Kind = saved.Kind, Message = saved.Message, Errors = saved.Errors };
        }

        await db.Entry(row).Reference(d => d.Model).LoadAsync(ct);
        await db.Entry(row).Reference(d => d.GpuType).LoadAsync(ct);
        var view = ToView(row);
        return Outcome<DeploymentView>.Ok(view, view.Warnings);
    }

    // ---------------------------------------------------------------- plumbing

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Saves, and turns the unique-index race (two writers passing the name check at once) into the same
    /// conflict the check gives. Signals the change once it is committed.
    /// </summary>
    private async Task<Outcome<T>> SaveAsync<T>(FlareDbContext db, Func<T> result, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex)
        {
            return Outcome<T>.Conflict($"The change conflicts with what is stored: {ex.InnerException?.Message ?? ex.Message}");
        }

        changes.Raise();
        return Outcome<T>.Ok(result());
    }

    private static async Task<Dictionary<int, (int Deployments, int Gpus)>> GpuUsageAsync(FlareDbContext db, CancellationToken ct)
    {
        var rows = await db.Deployments.AsNoTracking().Where(d => d.GpuTypeId != null)
            .GroupBy(d => d.GpuTypeId!.Value)
            .Select(g => new { g.Key, Count = g.Count(), Gpus = g.Sum(d => d.Enabled ? d.GpuCount : 0) })
            .ToListAsync(ct);
        return rows.ToDictionary(r => r.Key, r => (r.Count, r.Gpus));
    }

    private static void Apply(GpuTypeEntity row, GpuTypeInput input, DateTime now)
    {
        row.Name = input.Name;
        row.MemoryGiB = input.MemoryGiB;
        row.PricePerHourUsd = input.PricePerHourUsd;
        row.PeakBf16Tflops = input.PeakBf16Tflops;
        row.MemoryBandwidthGBs = input.MemoryBandwidthGBs;
        if (input.PoolCount is { } count)
        {
            row.PoolCount = count;
        }

        row.UpdatedUtc = now;
    }

    private static void Apply(ModelEntity row, ModelInput input, DateTime now)
    {
        row.Name = input.Name;
        row.Family = input.Family ?? "";
        row.ParameterCountBillions = input.ParameterCountBillions;
        row.ContextLength = input.ContextLength;
        row.InputPricePerMTokUsd = input.InputPricePerMTokUsd;
        row.OutputPricePerMTokUsd = input.OutputPricePerMTokUsd;
        row.Tags = string.Join(',', (input.Tags ?? []).Select(t => t.Trim()).Where(t => t.Length > 0).Distinct());
        row.UpdatedUtc = now;
    }

    private static void Apply(DeploymentEntity row, DeploymentInput input, DateTime now)
    {
        row.Name = input.Name;
        row.ModelId = input.ModelId;
        row.Kind = input.Kind;
        row.BaseUrl = input.BaseUrl.TrimEnd('/');
        row.ServedModelName = input.ServedModelName;
        if (input.ApiKey is not null)
        {
            row.ApiKey = input.ApiKey.Length == 0 ? null : input.ApiKey;
        }

        row.GpuTypeId = input.Kind == DeploymentKind.Api ? null : input.GpuTypeId;
        row.GpuCount = input.Kind == DeploymentKind.Api ? 0 : input.GpuCount;
        row.TensorParallel = input.TensorParallel;
        row.MaxConcurrency = input.MaxConcurrency;
        row.Enabled = input.Enabled;
        row.Emulator = input.Kind == DeploymentKind.Emulated ? input.Emulator ?? EmulatorSettings.Default : null;
        row.UpdatedUtc = now;
    }

    private static GpuTypeView ToView(GpuTypeEntity g, Dictionary<int, (int Deployments, int Gpus)> usage)
    {
        var (deployments, gpus) = usage.TryGetValue(g.Id, out var u) ? u : (0, 0);
        return new(g.Id, g.Name, g.MemoryGiB, g.PricePerHourUsd, g.PeakBf16Tflops, g.MemoryBandwidthGBs, g.PoolCount, deployments, gpus);
    }

    private static ModelView ToView(ModelEntity m, int deploymentCount) =>
        new(m.Id, m.Name, m.Family, m.ParameterCountBillions, m.ContextLength, m.InputPricePerMTokUsd,
            m.OutputPricePerMTokUsd, m.TagList, deploymentCount);

    private static DeploymentView ToView(DeploymentEntity d)
    {
        var warning = d.Model is not null && d.GpuType is not null
            ? RegistryRules.MemoryFitWarning(d.Model.ToDomain(), d.GpuType.ToDomain(), d.GpuCount)
            : null;
        return new(d.Id, d.Name, d.ModelId, d.Model?.Name ?? "", d.Kind, d.BaseUrl, d.ServedModelName,
            HasApiKey: d.ApiKey is not null, ApiKeyHint: Hint(d.ApiKey), d.GpuTypeId, d.GpuType?.Name, d.GpuCount,
            d.TensorParallel, d.MaxConcurrency, d.Enabled, warning is null ? [] : [warning], d.Emulator);
    }

    /// <summary>Enough of a key to tell two apart, never enough to use: the last four characters, and only of a long key.</summary>
    internal static string? Hint(string? apiKey) => apiKey switch
    {
        null => null,
        { Length: >= 12 } => "••••" + apiKey[^4..],
        _ => "••••",
    };
}

/// <summary>Raised after every committed registry change, so snapshots and open pages refresh without a restart.</summary>
public sealed class RegistryChangeSignal
{
    private long _version;

    public event Action? Changed;

    /// <summary>Increases by one with every committed change.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void Raise()
    {
        Interlocked.Increment(ref _version);
        Changed?.Invoke();
    }
}
