/**
 * Cities used to place synthetic subscribers where people live. Coordinates: GeoNames (city centres, rounded to
 * 0.01°). Populations: city/urban populations from the national censuses (Romania INS 2021, Moldova BNS 2014 census,
 * Bulgaria NSI 2021, Türkiye TÜİK ADNKS 2022 central-district totals), rounded to the thousand. They are weights for
 * drills and benchmarks, not statistics to quote.
 */
export interface City {
  name: string;
  country: 'RO' | 'MD' | 'BG' | 'TR';
  lat: number;
  lon: number;
  population: number;
}

export const CITIES: readonly City[] = [
  // Romania
  { name: 'București', country: 'RO', lat: 44.43, lon: 26.1, population: 1_717_000 },
  { name: 'Cluj-Napoca', country: 'RO', lat: 46.77, lon: 23.62, population: 287_000 },
  { name: 'Iași', country: 'RO', lat: 47.16, lon: 27.6, population: 272_000 },
  { name: 'Constanța', country: 'RO', lat: 44.16, lon: 28.63, population: 264_000 },
  { name: 'Timișoara', country: 'RO', lat: 45.75, lon: 21.21, population: 251_000 },
  { name: 'Brașov', country: 'RO', lat: 45.66, lon: 25.6, population: 238_000 },
  { name: 'Craiova', country: 'RO', lat: 44.33, lon: 23.79, population: 234_000 },
  { name: 'Galați', country: 'RO', lat: 45.44, lon: 28.01, population: 218_000 },
  { name: 'Oradea', country: 'RO', lat: 47.05, lon: 21.92, population: 183_000 },
  { name: 'Ploiești', country: 'RO', lat: 44.94, lon: 26.01, population: 181_000 },
  { name: 'Brăila', country: 'RO', lat: 45.27, lon: 27.96, population: 155_000 },
  { name: 'Arad', country: 'RO', lat: 46.19, lon: 21.31, population: 145_000 },
  { name: 'Pitești', country: 'RO', lat: 44.86, lon: 24.87, population: 141_000 },
  { name: 'Bacău', country: 'RO', lat: 46.57, lon: 26.91, population: 136_000 },
  { name: 'Sibiu', country: 'RO', lat: 45.8, lon: 24.13, population: 134_000 },
  { name: 'Târgu Mureș', country: 'RO', lat: 46.54, lon: 24.56, population: 116_000 },
  { name: 'Baia Mare', country: 'RO', lat: 47.66, lon: 23.58, population: 109_000 },
  { name: 'Buzău', country: 'RO', lat: 45.15, lon: 26.82, population: 103_000 },
  { name: 'Botoșani', country: 'RO', lat: 47.75, lon: 26.67, population: 101_000 },
  { name: 'Râmnicu Vâlcea', country: 'RO', lat: 45.1, lon: 24.37, population: 93_000 },
  { name: 'Piatra Neamț', country: 'RO', lat: 46.93, lon: 26.37, population: 85_000 },
  { name: 'Suceava', country: 'RO', lat: 47.65, lon: 26.26, population: 84_000 },
  { name: 'Focșani', country: 'RO', lat: 45.7, lon: 27.18, population: 71_000 },
  { name: 'Tulcea', country: 'RO', lat: 45.18, lon: 28.8, population: 66_000 },
  { name: 'Vaslui', country: 'RO', lat: 46.64, lon: 27.73, population: 55_000 },
  { name: 'Giurgiu', country: 'RO', lat: 43.9, lon: 25.97, population: 54_000 },
  { name: 'Bârlad', country: 'RO', lat: 46.23, lon: 27.67, population: 49_000 },
  { name: 'Sfântu Gheorghe', country: 'RO', lat: 45.86, lon: 25.79, population: 50_000 },
  { name: 'Râmnicu Sărat', country: 'RO', lat: 45.38, lon: 27.06, population: 31_000 },
  // Moldova
  { name: 'Chișinău', country: 'MD', lat: 47.01, lon: 28.86, population: 533_000 },
  { name: 'Bălți', country: 'MD', lat: 47.76, lon: 27.93, population: 102_000 },
  { name: 'Ungheni', country: 'MD', lat: 47.21, lon: 27.8, population: 31_000 },
  { name: 'Cahul', country: 'MD', lat: 45.91, lon: 28.19, population: 30_000 },
  { name: 'Comrat', country: 'MD', lat: 46.3, lon: 28.66, population: 20_000 },
  // Bulgaria
  { name: 'Sofia', country: 'BG', lat: 42.7, lon: 23.32, population: 1_183_000 },
  { name: 'Plovdiv', country: 'BG', lat: 42.14, lon: 24.75, population: 347_000 },
  { name: 'Varna', country: 'BG', lat: 43.21, lon: 27.91, population: 311_000 },
  { name: 'Burgas', country: 'BG', lat: 42.5, lon: 27.47, population: 188_000 },
  { name: 'Ruse', country: 'BG', lat: 43.84, lon: 25.97, population: 140_000 },
  { name: 'Stara Zagora', country: 'BG', lat: 42.43, lon: 25.63, population: 122_000 },
  { name: 'Pleven', country: 'BG', lat: 43.42, lon: 24.61, population: 90_000 },
  { name: 'Shumen', country: 'BG', lat: 43.27, lon: 26.92, population: 71_000 },
  { name: 'Dobrich', country: 'BG', lat: 43.57, lon: 27.83, population: 69_000 },
  { name: 'Silistra', country: 'BG', lat: 44.12, lon: 27.26, population: 31_000 },
  // Türkiye (region of the 2023 Kahramanmaraş earthquakes)
  { name: 'Gaziantep', country: 'TR', lat: 37.07, lon: 37.38, population: 1_800_000 },
  { name: 'Adana', country: 'TR', lat: 37.0, lon: 35.32, population: 1_770_000 },
  { name: 'Şanlıurfa', country: 'TR', lat: 37.16, lon: 38.79, population: 1_000_000 },
  { name: 'Kahramanmaraş', country: 'TR', lat: 37.58, lon: 36.92, population: 700_000 },
  { name: 'Malatya', country: 'TR', lat: 38.36, lon: 38.31, population: 600_000 },
  { name: 'Antakya', country: 'TR', lat: 36.2, lon: 36.16, population: 400_000 },
  { name: 'Adıyaman', country: 'TR', lat: 37.76, lon: 38.28, population: 300_000 },
  { name: 'Osmaniye', country: 'TR', lat: 37.07, lon: 36.25, population: 280_000 },
  { name: 'İskenderun', country: 'TR', lat: 36.59, lon: 36.17, population: 250_000 },
  { name: 'Kilis', country: 'TR', lat: 36.72, lon: 37.12, population: 100_000 },
  // Türkiye (Marmara: the marmara-istanbul scenario). Province total, TÜİK ADNKS 2022.
  { name: 'İstanbul', country: 'TR', lat: 41.01, lon: 28.95, population: 15_908_000 },
];

/** Default language of a country's subscribers. */
export const COUNTRY_LOCALE: Record<City['country'], string> = { RO: 'ro', MD: 'ro', BG: 'bg', TR: 'tr' };
