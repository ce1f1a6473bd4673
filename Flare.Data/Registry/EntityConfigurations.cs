using Flare.Routing.Registry;
using Microsoft.EntityFrameworkCore;
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
    public void Configure(EntityTypeBuilder<DeploymentEntity> b)
    {
        b.ToTable("Deployments");
        b.Property(x => x.Name).HasMaxLength(RegistryRules.MaxNameLength).IsRequired();
        b.HasIndex(x => x.Name).IsUnique();
        b.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.BaseUrl).HasMaxLength(2000).IsRequired();
        b.Property(x => x.ServedModelName).HasMaxLength(200).IsRequired();
        b.Property(x => x.ApiKey).HasMaxLength(8192);

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
