"""The supply-chain registry: sites, products, contracts and disclosures."""
