using Flare.Routing.Registry;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Registry;

internal sealed class GpuTypeConfiguration : IEntityTypeConfiguration<GpuTypeEntity>
{
    public void Configure(EntityTypeBuilder<GpuTypeEntity> b)
    {
        b.ToTable("GpuTypes");
        b.Property(x => x.Name).HasMaxLength(RegistryRules.MaxNameLength).IsRequired();
        b.HasIndex(x => x.Name).IsUnique();
    }
}

internal sealed class ModelConfiguration : IEntityTypeConfiguration<ModelEntity>
{
    public void Configure(EntityTypeBuilder<ModelEntity> b)
    {
        b.ToTable("Models");
        b.Property(x => x.Name).HasMaxLength(RegistryRules.MaxNameLength).IsRequired();
        b.Property(x => x.Family).HasMaxLength(RegistryRules.MaxNameLength);
        b.Property(x => x.Tags).HasMaxLength(2000);
        b.HasIndex(x => x.Name).IsUnique();
        b.Ignore(x => x.TagList);
    }
}

internal sealed class DeploymentConfiguration : IEntityTypeConfiguration<DeploymentEntity>
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public void Configure(EntityTypeBuilder<DeploymentEntity> b)
    {
        b.ToTable("Deployments");
        b.Property(x => x.Name).HasMaxLength(RegistryRules.MaxNameLength).IsRequired();
        b.HasIndex(x => x.Name).IsUnique();
        b.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.BaseUrl).HasMaxLength(2000).IsRequired();
        b.Property(x => x.ServedModelName).HasMaxLength(200).IsRequired();
        b.Property(x => x.ApiKey).HasMaxLength(8192);

        // JSON text keeps the model provider-neutral; records compare by value, so change tracking works.
        b.Property(x => x.Emulator).HasMaxLength(2000).HasConversion(
            v => v == null ? null : JsonSerializer.Serialize(v, JsonOptions),
            v => v == null ? null : JsonSerializer.Deserialize<EmulatorSettings>(v, JsonOptions),
            new ValueComparer<EmulatorSettings?>((a, c) => Equals(a, c), v => v == null ? 0 : v.GetHashCode(), v => v));

        // A model or GPU type that deployments use cannot be deleted: the store says so with a 409,
        // and the database refuses it too should anything else try.
        b.HasOne(x => x.Model).WithMany(m => m.Deployments).HasForeignKey(x => x.ModelId).OnDelete(DeleteBehavior.Restrict);
        b.HasOne(x => x.GpuType).WithMany().HasForeignKey(x => x.GpuTypeId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class InstallationFactConfiguration : IEntityTypeConfiguration<InstallationFact>
{
    public void Configure(EntityTypeBuilder<InstallationFact> b)
    {
        b.ToTable("InstallationFacts");
        b.HasKey(x => x.Key);
        b.Property(x => x.Key).HasMaxLength(100);
        b.Property(x => x.Value).HasMaxLength(4000);
    }
}
