/**
 * Which counters (단위 명사) take native Korean numbers and which take Sino-Korean ones, plus
 * the readings of unit symbols and currency signs in Korean text.
 *
 * Rules kept by the normalizer (see korean-normalizer.ts):
 * - A native counter with a whole number 1–99 reads native (세 개, 스무 살, 열한 시); 100 and more,
 *   or a decimal, read Sino-Korean, as people say them (백 명, 삼 점 오 개).
 * - 대 with a multiple of ten reads Sino-Korean: "20대" is almost always an age bracket (이십 대).
 * - 번 is a count (세 번) unless the word just before or just after it is a label noun from
 *   BEON_LABEL_NOUNS ("3번 출구", "버스 1번"), which makes it a number label (삼 번 출구).
 * - 분 reads as minutes (Sino-Korean): the honorific "세 분" (three people) cannot be told apart.
 * - A space always separates the number from its counter (세 개, 삼 월, 이천이십오 년).
 */

/** Counters that take native Korean numbers (1–99). */
// prettier-ignore
export const NATIVE_COUNTERS: readonly string[] = [
  '개', '명', '살', '시', '마리', '번째', '잔', '권', '병', '사람', '가지', '시간', '달', '벌', '켤레',
  '대', '장', '그루', '송이', '척', '채', '통', '곳', '군데', '줄', '번', '자루', '봉지', '그릇', '접시',
  '쌍', '차례', '바퀴', '마디', '알', '방울', '칸', '판', '포기', '끼', '배', '팀', '조각', '박스',
  '상자', '걸음', '명씩', '개씩', '통씩', '살짜리', '학급', '덩어리', '자리', '숟가락', '모금', '켤레씩',
];

/** Counters and units written in Hangul that take Sino-Korean numbers. */
// prettier-ignore
export const SINO_COUNTERS: readonly string[] = [
  '분', '초', '년', '월', '일', '원', '층', '호', '회', '주', '주년', '주일', '개월', '개국', '개년', '세',
  '퍼센트', '프로', '점', '등', '위', '학년', '교시', '인분', '인', '차', '번지', '동', '단계', '부', '편',
  '화', '과', '쪽', '페이지', '달러', '엔', '위안', '유로', '파운드', '킬로', '킬로미터', '킬로그램',
  '미터', '센티', '센티미터', '밀리', '그램', '리터', '도', '톤', '평', '년도', '년대', '세기', '박', '일간',
  '분기', '라운드', '세트', '기', '대째', '선', '시즌', '퍼센트포인트', '배속', '인치', '칼로리',
];

/** Nouns that make "N번" a number label rather than a count ("3번 출구" → 삼 번 출구). */
// prettier-ignore
export const BEON_LABEL_NOUNS: readonly string[] = [
  '출구', '문제', '버스', '선수', '방', '게이트', '홀', '트랙', '채널', '라인', '국도', '고속도로', '테이블',
  '좌석', '창구', '항목', '질문', '정답', '답', '카드', '파일', '타자', '후보', '마을버스', '노선', '열차',
  '플랫폼', '승강장', '타석', '레인', '코스', '슬라이드', '보기', '조항', '선택지', '환자', '손님', '사물함',
  '문항', '곡', '시드', '등번호', '유니폼', '지선', '간선', '도로', '침대', '칸', '번호',
];

/** Unit symbols read in Korean; checked longest first and only when no Latin letter follows. */
export const KOREAN_UNIT_READINGS: Readonly<Record<string, string>> = {
  'km/h': '킬로미터',
  '㎞/h': '킬로미터',
  'm/s': '미터 퍼 초',
  'km²': '제곱킬로미터',
  km: '킬로미터',
  '㎞': '킬로미터',
  kg: '킬로그램',
  '㎏': '킬로그램',
  'cm²': '제곱센티미터',
  cm: '센티미터',
  '㎝': '센티미터',
  mm: '밀리미터',
  '㎜': '밀리미터',
  μm: '마이크로미터',
  '㎛': '마이크로미터',
  nm: '나노미터',
  'm²': '제곱미터',
  '㎡': '제곱미터',
  'm³': '세제곱미터',
  '㎥': '세제곱미터',
  m: '미터',
  mg: '밀리그램',
  '㎎': '밀리그램',
  g: '그램',
  ml: '밀리리터',
  mL: '밀리리터',
  '㎖': '밀리리터',
  L: '리터',
  ℓ: '리터',
  cc: '씨씨',
  '°C': '도',
  '℃': '도',
  '°F': '도',
  '℉': '도',
  '°': '도',
  kcal: '킬로칼로리',
  cal: '칼로리',
  TB: '테라바이트',
  GB: '기가바이트',
  MB: '메가바이트',
  KB: '킬로바이트',
  kB: '킬로바이트',
  GHz: '기가헤르츠',
  MHz: '메가헤르츠',
  kHz: '킬로헤르츠',
  Hz: '헤르츠',
  kWh: '킬로와트시',
  kW: '킬로와트',
  W: '와트',
  V: '볼트',
  mAh: '밀리암페어시',
  dB: '데시벨',
  ppm: '피피엠',
  ms: '밀리초',
  '%p': '퍼센트포인트',
  '%': '퍼센트',
};

/** Units read as speeds: "100km/h" → 시속 백 킬로미터. */
export const SPEED_UNITS: ReadonlySet<string> = new Set(['km/h', '㎞/h']);

/** Currency signs written before the amount; the reading goes after it ($20 → 이십 달러). */
export const KOREAN_CURRENCY_READINGS: Readonly<Record<string, string>> = {
  '₩': '원',
  '￦': '원',
  $: '달러',
  US$: '달러',
  '€': '유로',
  '£': '파운드',
  '¥': '엔',
  '￥': '엔',
};

/** Months with an irregular Sino-Korean reading (the ㄹ of 육/십 drops: 유월, 시월). */
export const IRREGULAR_MONTHS: Readonly<Record<number, string>> = { 6: '유월', 10: '시월' };
